// re2find: the test suite's way to run an expression in RE2, the engine of Go's
// regexp and so of Go secret scanners such as gitleaks
// (tests/integration/test_token_regex.py runs the expressions of docs/tokens.md
// through it).
//
//   re2find PATTERN < text
//
// Reads all of standard input as one text and reports every match of PATTERN,
// left to right and without overlap, as such a scanner walks a file: one line
// per match, "OFFSET<TAB>SECRET", where SECRET is capture group 1 when the
// pattern has groups (a scanner's secret group) and the whole match when it has
// none, and OFFSET is its byte offset in the text. The search after a match goes
// on where the match ended, in the context of the whole text (as Go's FindAll
// does), so ^ and $ see the real start and end of the text.
//
// Exit status: 0 when something matched, 1 when nothing did, 2 when RE2 refuses
// the pattern (its reason on standard error) or the input cannot be read.

#include <re2/re2.h>

#include <iostream>
#include <iterator>
#include <string>
#include <vector>

int main(int argc, char **argv)
{
	if (argc != 2) {
		std::cerr << "usage: re2find PATTERN < text\n";
		return 2;
	}
	RE2::Options options;
	options.set_log_errors(false);
	RE2 re(argv[1], options);
	if (!re.ok()) {
		std::cerr << "re2find: RE2 refuses the pattern: " << re.error() << "\n";
		return 2;
	}
	std::string text{std::istreambuf_iterator<char>(std::cin),
	                 std::istreambuf_iterator<char>()};
	if (std::cin.bad()) {
		std::cerr << "re2find: cannot read standard input\n";
		return 2;
	}

	const int secret = re.NumberOfCapturingGroups() > 0 ? 1 : 0;
	std::vector<re2::StringPiece> groups(secret + 1);
	int found = 0;
	size_t pos = 0;
	while (pos <= text.size() && re.Match(text, pos, text.size(), RE2::UNANCHORED,
	                                      groups.data(), static_cast<int>(groups.size()))) {
		const re2::StringPiece &whole = groups[0];
		const re2::StringPiece &s = groups[secret];
		if (s.data() != nullptr) {
			std::cout << (s.data() - text.data()) << '\t' << s << '\n';
			found++;
		}
		size_t end = static_cast<size_t>(whole.data() - text.data()) + whole.size();
		// An empty match would be found again at the same place: step over it.
		pos = whole.empty() ? end + 1 : end;
	}
	std::cout.flush();
	if (!std::cout) {
		std::cerr << "re2find: cannot write standard output\n";
		return 2;
	}
	return found > 0 ? 0 : 1;
}
