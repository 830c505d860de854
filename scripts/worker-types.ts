// `npm run types`: regenerates worker-configuration.d.ts (the Worker's `WorkerEnv`, from
// wrangler.toml and the secrets declared in .dev.vars.example, never a developer's .dev.vars).
// `npm run types:check` (part of `npm run typecheck`) fails when wrangler.toml changed since.
//
// Wrangler also types `process.env` as the Worker's variables (they are copied there at run
// time). One tsconfig covers the Worker and the Node scripts and tests, whose `process.env` is
// their own, so that block is dropped; the header's hash, which --check compares, is kept.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

const FILE = "worker-configuration.d.ts";
export const WRANGLER_TYPES_ARGS = [
	"types",
	FILE,
	"--include-runtime=false",
	"--strict-vars=false",
	"--env-interface=WorkerEnv",
	"--env-file=.dev.vars.example",
];

execFileSync("wrangler", [...WRANGLER_TYPES_ARGS, ...process.argv.slice(2)], { stdio: "inherit" });
if (!process.argv.includes("--check")) {
	const text = readFileSync(FILE, "utf8");
	const stripped = text.replace(
		/\ntype StringifyValues<[\s\S]*?\ndeclare namespace NodeJS \{[\s\S]*?\n\}\n/,
		"\n",
	);
	if (stripped === text) throw new Error(`${FILE}: the process.env block was not found`);
	writeFileSync(FILE, stripped);
}
