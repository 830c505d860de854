/**
 * `npm run bench`: runs the benchmarks one after another (each starts its own local stack and
 * writes bench/results/<name>.json), then collects every result into bench/results/latest.json,
 * renders bench/results/latest.md and rewrites the block between `<!-- bench:start -->` and
 * `<!-- bench:end -->` in docs/benchmarks.md: the one place the numbers are published.
 *
 *   npm run bench                        load, pipeline, faults, checkout weight, bundle size
 *   npm run bench -- --all               also webhooks, Solana detection and scale (about 16 more minutes)
 *   npm run bench -- --only load,pipeline
 *   npm run bench -- --skip faults
 *   npm run bench -- --collect-only      no runs: collect and render what is in bench/results
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "../scripts/lib/paths.js";
import { collect, renderAll, replaceBetween } from "./lib/load-collect.js";
import { RESULTS_DIR } from "./lib/report.js";

interface Benchmark {
	name: string;
	script: string;
	args?: string[];
	/** Only with --all (or when named in --only). */
	long?: boolean;
}

const BENCHMARKS: Benchmark[] = [
	{ name: "load", script: "bench/load.ts" },
	{ name: "pipeline", script: "bench/pipeline.ts" },
	{ name: "faults", script: "bench/faults.ts" },
	{ name: "checkout-weight", script: "bench/checkout-weight.ts" },
	{ name: "bundle-size", script: "scripts/bundle-size.ts", args: ["--record"] },
	{ name: "webhooks", script: "bench/webhooks.ts", long: true },
	{ name: "solana-detection", script: "bench/solana-detection.ts", long: true },
	{ name: "scale", script: "bench/scale.ts", long: true },
];

const { values: args } = parseArgs({
	options: {
		only: { type: "string" },
		skip: { type: "string" },
		all: { type: "boolean", default: false },
		"collect-only": { type: "boolean", default: false },
	},
});

const list = (value: string | undefined) =>
	new Set(
		(value ?? "")
			.split(",")
			.map((s) => s.trim())
			.filter(Boolean),
	);

function chosen(): Benchmark[] {
	const only = list(args.only);
	const skip = list(args.skip);
	const unknown = [...only, ...skip].filter((n) => !BENCHMARKS.some((b) => b.name === n));
	if (unknown.length > 0) {
		throw new Error(
			`unknown benchmark(s): ${unknown.join(", ")} (known: ${BENCHMARKS.map((b) => b.name).join(", ")})`,
		);
	}
	return BENCHMARKS.filter((b) => {
		if (skip.has(b.name)) return false;
		if (only.size > 0) return only.has(b.name);
		return args.all || !b.long;
	});
}

function runScript(bench: Benchmark): Promise<number> {
	const tsx = join(REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs");
	return new Promise((resolve) => {
		const child = spawn(process.execPath, [tsx, bench.script, ...(bench.args ?? [])], {
			cwd: REPO_ROOT,
			stdio: "inherit",
		});
		child.once("error", () => resolve(1));
		child.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
	});
}

async function main(): Promise<void> {
	const failed: string[] = [];
	if (!args["collect-only"]) {
		for (const bench of chosen()) {
			if (!existsSync(join(REPO_ROOT, bench.script))) {
				console.log(`[bench] ${bench.name}: ${bench.script} is not there; skipped`);
				continue;
			}
			console.log(`[bench] ${bench.name}: tsx ${bench.script} ${(bench.args ?? []).join(" ")}`);
			const started = Date.now();
			const code = await runScript(bench);
			const took = Math.round((Date.now() - started) / 1000);
			console.log(
				`[bench] ${bench.name}: ${code === 0 ? "done" : `FAILED (exit ${code})`} in ${took} s`,
			);
			if (code !== 0) failed.push(bench.name);
		}
	}

	const { results, skipped } = collect();
	writeFileSync(
		join(RESULTS_DIR, "latest.json"),
		`${JSON.stringify({ collected_at: new Date().toISOString(), results }, null, "\t")}\n`,
	);
	const markdown = renderAll(results, skipped);
	writeFileSync(join(RESULTS_DIR, "latest.md"), markdown);
	console.log(`[bench] collected ${results.length} results into bench/results/latest.{json,md}`);

	for (const file of [join("docs", "benchmarks.md")]) {
		const path = join(REPO_ROOT, file);
		const text = existsSync(path) ? replaceBetween(readFileSync(path, "utf8"), markdown) : null;
		if (text === null) {
			console.log(`[bench] ${file} has no bench markers; not written`);
			continue;
		}
		writeFileSync(path, text);
		console.log(`[bench] ${file}: the bench block is rewritten`);
	}
	for (const t of results.flatMap((r) => (r.targets ?? []).map((t) => ({ ...t, bench: r.name })))) {
		if (!t.met) console.log(`[bench] missed (${t.bench}): ${t.name}`);
	}
	if (failed.length > 0) {
		console.error(`[bench] failed: ${failed.join(", ")}`);
		process.exitCode = 1;
	}
}

await main();
