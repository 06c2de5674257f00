// The user message `/init` sends: the agent explores the repository with its own tools and
// writes AGENTS.md through write_file (so the usual permission prompt shows the file).
export const INIT_PROMPT = `Please analyze this repository and write an AGENTS.md file at the repository root for future coding agents working in it.

Explore first (list_dir, glob, read_file on the README, package/build manifests, CI config, existing AGENTS.md/KIMI.md/CLAUDE.md). Then write a concise AGENTS.md (aim for under 150 lines) covering:
- what the project is, in two or three sentences;
- how to build, lint and run the tests, including how to run a single test (exact commands);
- the architecture: main directories and how data flows between them;
- code conventions that are not obvious from one file (naming, error handling, testing rules).
Only state what you verified in the repository. If AGENTS.md already exists, improve it instead of replacing useful content.`;
