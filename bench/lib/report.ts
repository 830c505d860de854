import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../../scripts/lib/paths.js";

// Every benchmark writes one result file, bench/results/<name>.json, in this shape; `npm run bench`
// (bench/run.ts) collects them into bench/results/latest.json and the Markdown table the README
// includes.

/** One table of a benchmark's results, rendered as Markdown by the collector. */
export interface BenchTable {
	title: string;
	columns: string[];
	rows: (string | number)[][];
	/** Sentences under the table: targets met or missed, what a number means. */
	notes?: string[];
}

export interface BenchResult {
	/** File stem under bench/results/ ("load", "pipeline", "faults", …). */
	name: string;
	/** What was measured, one line. */
	title: string;
	ran_at: string;
	machine: { cpus: number; cpu_model: string; memory_gib: number; node: string };
	/** Targets the benchmark checks, each met or not. */
	targets?: { name: string; met: boolean; detail: string }[];
	tables: BenchTable[];
	/** The raw measurements, for anyone who wants more than the tables. */
	data: unknown;
}

export function machineInfo(): BenchResult["machine"] {
	const list = cpus();
	return {
		cpus: list.length,
		cpu_model: list[0]?.model.trim() ?? "unknown",
		memory_gib: Math.round(totalmem() / 2 ** 30),
		node: process.version,
	};
}

export const RESULTS_DIR = join(REPO_ROOT, "bench", "results");

export function resultPath(name: string): string {
	return join(RESULTS_DIR, `${name}.json`);
}

/** Writes bench/results/<name>.json (pretty, newline-terminated, so diffs stay readable). */
export function writeResult(result: Omit<BenchResult, "ran_at" | "machine">): BenchResult {
	const full: BenchResult = { ...result, ran_at: new Date().toISOString(), machine: machineInfo() };
	mkdirSync(RESULTS_DIR, { recursive: true });
	writeFileSync(resultPath(result.name), `${JSON.stringify(full, null, "\t")}\n`);
	return full;
}

export function readResult(name: string): BenchResult | null {
	try {
		return JSON.parse(readFileSync(resultPath(name), "utf8")) as BenchResult;
	} catch {
		return null;
	}
}
