import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type BenchResult, type BenchTable, RESULTS_DIR } from "./report.js";

// Markdown for collected benchmark results: one section per result, its targets met or missed,
// then its tables with their notes. Used for bench/results/latest.md and the block in docs/benchmarks.md.

/** Results in this order first (the results read top-down from the request path outwards). */
const ORDER = [
	"load",
	"pipeline",
	"faults",
	"webhooks",
	"solana-detection",
	"scale",
	"checkout-weight",
	"bundle-size",
];

export function sortResults(results: BenchResult[]): BenchResult[] {
	const rank = (name: string) => {
		const i = ORDER.indexOf(name);
		return i === -1 ? ORDER.length : i;
	};
	return [...results].sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}

function cell(value: string | number): string {
	const text = typeof value === "number" ? value.toLocaleString("en-US") : value;
	return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** A GitHub table with padded columns, numbers right-aligned. */
export function markdownTable(table: BenchTable): string {
	const header = table.columns.map(cell);
	const rows = table.rows.map((r) => table.columns.map((_, i) => cell(r[i] ?? "")));
	const numeric = table.columns.map(
		(_, i) => table.rows.length > 0 && table.rows.every((r) => typeof r[i] === "number"),
	);
	const widths = header.map((h, i) =>
		Math.max(3, h.length, ...rows.map((r) => (r[i] ?? "").length)),
	);
	const line = (cells: string[]) =>
		`| ${cells
			.map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 3) : c.padEnd(widths[i] ?? 3)))
			.join(" | ")} |`;
	const rule = `| ${widths.map((w, i) => (numeric[i] ? `${"-".repeat(w - 1)}:` : "-".repeat(w))).join(" | ")} |`;
	return [line(header), rule, ...rows.map(line)].join("\n");
}

export function renderResult(result: BenchResult, level = 4): string {
	const m = result.machine;
	const parts = [
		`${"#".repeat(level)} ${result.title}`,
		`\`bench/results/${result.name}.json\`, measured ${result.ran_at.slice(0, 16).replace("T", " ")} UTC on ${m.cpus} × ${m.cpu_model}, ${m.memory_gib} GiB, Node ${m.node}.`,
	];
	if (result.targets && result.targets.length > 0) {
		parts.push(
			result.targets
				.map((t) => `- **${t.met ? "met" : "missed"}**: ${t.name} (${t.detail})`)
				.join("\n"),
		);
	}
	for (const table of result.tables) {
		parts.push(`**${table.title}**`, markdownTable(table));
		if (table.notes && table.notes.length > 0) parts.push(table.notes.join(" "));
	}
	return parts.join("\n\n");
}

/** One table of every target, so the headline numbers are generated like the rest. */
export function renderTargets(results: BenchResult[]): string {
	const rows = sortResults(results).flatMap((r) =>
		(r.targets ?? []).map((t) => [r.name, t.name, t.met ? "met" : "missed", t.detail]),
	);
	if (rows.length === 0) return "";
	return `**Targets**\n\n${markdownTable({ title: "Targets", columns: ["Benchmark", "Target", "Result", "Measured"], rows })}`;
}

export function renderAll(results: BenchResult[], skipped: string[] = []): string {
	const sections = [
		renderTargets(results),
		...sortResults(results).map((r) => renderResult(r)),
	].filter(Boolean);
	if (skipped.length > 0) {
		sections.push(
			`Not shown (not in the result shape): ${skipped.map((s) => `\`${s}\``).join(", ")}.`,
		);
	}
	return `${sections.join("\n\n")}\n`;
}

/** `text` with everything between the two markers replaced by `block`; null without the markers. */
export function replaceBetween(
	text: string,
	block: string,
	start = "<!-- bench:start -->",
	end = "<!-- bench:end -->",
): string | null {
	// Markers count only on lines of their own, so prose that names them (in backticks) is left be.
	const lineAt = (marker: string, after: number) => {
		for (let i = text.indexOf(marker, after); i !== -1; i = text.indexOf(marker, i + 1)) {
			const lineStart = i === 0 || text[i - 1] === "\n";
			const lineEnd =
				i + marker.length === text.length || /^\r?\n/.test(text.slice(i + marker.length));
			if (lineStart && lineEnd) return i;
		}
		return -1;
	};
	const from = lineAt(start, 0);
	const to = from === -1 ? -1 : lineAt(end, from + start.length);
	if (from === -1 || to === -1) return null;
	return `${text.slice(0, from + start.length)}\n\n${block.trim()}\n\n${text.slice(to)}`;
}

/** Whether a parsed file is a result in the shape writeResult writes. */
export function isBenchResult(value: unknown): value is BenchResult {
	const v = value as Partial<BenchResult> | null;
	return (
		typeof v === "object" &&
		v !== null &&
		typeof v.name === "string" &&
		typeof v.title === "string" &&
		typeof v.ran_at === "string" &&
		typeof v.machine === "object" &&
		Array.isArray(v.tables)
	);
}

/** Every bench/results/*.json in the result shape, and the names of those that are not. */
export function collect(dir = RESULTS_DIR): { results: BenchResult[]; skipped: string[] } {
	const results: BenchResult[] = [];
	const skipped: string[] = [];
	for (const file of readdirSync(dir).sort()) {
		if (!file.endsWith(".json") || file === "latest.json") continue;
		try {
			const parsed: unknown = JSON.parse(readFileSync(join(dir, file), "utf8"));
			if (isBenchResult(parsed)) results.push(parsed);
			else skipped.push(file);
		} catch {
			skipped.push(file);
		}
	}
	return { results: sortResults(results), skipped };
}
