// Run first by `npm run dev` and `npm test`: on a Node older than the toolchain needs (wrangler,
// the Workers test pool), one clear line and a non-zero exit instead of a wall of errors later.
// Plain JavaScript without dependencies, so any Node that can start npm can run it.
import { argv, exit, stderr, versions } from "node:process";
import { fileURLToPath } from "node:url";

/** package.json's engines.node, as numbers. */
export const MIN_NODE = Object.freeze({ major: 22, minor: 12 });

/** The one-line complaint about `version` ("22.11.0"), or undefined when it is recent enough. */
export function nodeVersionProblem(version) {
	const [major = 0, minor = 0] = version.split(".").map((part) => Number.parseInt(part, 10));
	if (major > MIN_NODE.major || (major === MIN_NODE.major && minor >= MIN_NODE.minor)) {
		return undefined;
	}
	return (
		`StreamPayments needs Node.js >= ${MIN_NODE.major}.${MIN_NODE.minor}, this is v${version}. ` +
		'Get Node 22 without touching the system one: npm i --prefix "$HOME/.node22" node@22 && ' +
		'export PATH="$HOME/.node22/node_modules/.bin:$PATH" (see docs/troubleshooting.md)'
	);
}

if (argv[1] && fileURLToPath(import.meta.url) === argv[1]) {
	const problem = nodeVersionProblem(versions.node);
	if (problem) {
		// --quiet: only the exit code (.ci/run asks before installing Node 22).
		if (!argv.includes("--quiet")) stderr.write(`${problem}\n`);
		exit(1);
	}
}
