import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, sep } from "node:path";
import { gzipSync } from "node:zlib";
import { writeResult } from "../bench/lib/report.js";
import { REPO_ROOT } from "./lib/paths.js";

// `npm run build:check`: builds the Worker exactly as `wrangler deploy` would (without uploading),
// measures every module that would be uploaded and fails over the budget; `--record` writes the
// numbers to bench/results/bundle-size.json.

// The Workers Free plan's limit on the compressed upload (the Paid plan allows 10 MiB).
const DEFAULT_BUDGET = 3 * 1024 * 1024;
const OUT_DIR = "dist";
const RESULT_FILE = join("bench", "results", "bundle-size.json");

interface ModuleSize {
	name: string;
	bytes: number;
	gzip_bytes: number;
}

function fail(message: string): never {
	process.stderr.write(`[bundle-size] ${message}\n`);
	process.exit(1);
}

function readBudget(value: string | undefined): number {
	if (value === undefined || value.trim() === "") return DEFAULT_BUDGET;
	const budget = Number(value.trim());
	if (!Number.isSafeInteger(budget) || budget <= 0) {
		fail(`BUNDLE_GZIP_BUDGET_BYTES must be a positive integer, got "${value}"`);
	}
	return budget;
}

function build(): void {
	// wrangler does not empty --outdir, so a stale module from an earlier build would be counted.
	rmSync(join(REPO_ROOT, OUT_DIR), { recursive: true, force: true });
	const wrangler = join(REPO_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
	const result = spawnSync(
		process.execPath,
		[wrangler, "deploy", "--dry-run", "--outdir", OUT_DIR],
		{
			cwd: REPO_ROOT,
			env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
			encoding: "utf8",
			stdio: ["ignore", "pipe", "pipe"],
			maxBuffer: 64 * 1024 * 1024,
		},
	);
	if (result.error) fail(`could not run wrangler: ${result.error.message}`);
	if (result.status !== 0) {
		const why = result.status === null ? `signal ${result.signal}` : `exit code ${result.status}`;
		fail(`wrangler deploy --dry-run failed (${why}):\n${result.stdout}${result.stderr}`);
	}
}

/** What wrangler would upload: every module in the output, not its README or source maps. */
function measure(): ModuleSize[] {
	const dir = join(REPO_ROOT, OUT_DIR);
	const names = readdirSync(dir, { recursive: true, encoding: "utf8" })
		.filter((name) => name !== "README.md" && !name.endsWith(".map"))
		.filter((name) => statSync(join(dir, name)).isFile())
		.sort();
	return names.map((name) => {
		const content = readFileSync(join(dir, name));
		return {
			name: name.split(sep).join("/"),
			bytes: content.byteLength,
			gzip_bytes: gzipSync(content, { level: 9 }).byteLength,
		};
	});
}

function kib(bytes: number): string {
	return `${(bytes / 1024).toFixed(2)} KiB`;
}

const budget = readBudget(process.env.BUNDLE_GZIP_BUDGET_BYTES);
build();
const modules = measure();
if (modules.length === 0) fail(`wrangler wrote no modules to ${OUT_DIR}/`);
const totalBytes = modules.reduce((sum, m) => sum + m.bytes, 0);
const totalGzip = modules.reduce((sum, m) => sum + m.gzip_bytes, 0);
const wranglerVersion = (
	JSON.parse(readFileSync(join(REPO_ROOT, "node_modules", "wrangler", "package.json"), "utf8")) as {
		version: string;
	}
).version;

const rows = [
	["module", "raw", "gzip"],
	...modules.map((m) => [m.name, kib(m.bytes), kib(m.gzip_bytes)]),
	["total", kib(totalBytes), kib(totalGzip)],
];
const widths = [0, 1, 2].map((col) => Math.max(...rows.map((row) => (row[col] ?? "").length)));
for (const [name = "", raw = "", gzip = ""] of rows) {
	const [w0 = 0, w1 = 0, w2 = 0] = widths;
	process.stdout.write(`${name.padEnd(w0)}  ${raw.padStart(w1)}  ${gzip.padStart(w2)}\n`);
}
const share = ((totalGzip / budget) * 100).toFixed(1);
process.stdout.write(`gzip budget: ${kib(budget)} (${share}% used)\n`);

// The browser's side: the checkout's script and stylesheet (the page's HTML is measured by the
// Worker suite), which must leave the page under 100 KB compressed on a phone.
const { CLIENT_ASSETS } = (await import("../src/generated/client-assets.js")) as {
	CLIENT_ASSETS: Record<string, { code: string }>;
};
const { CHECKOUT_CSS } = await import("../src/checkout/styles.js");
const browserAssets = [
	...Object.entries(CLIENT_ASSETS).map(([name, asset]) => ({ name, text: asset.code })),
	{ name: "checkout.css", text: CHECKOUT_CSS },
].map(({ name, text }) => ({
	name,
	bytes: Buffer.byteLength(text),
	gzip_bytes: gzipSync(text, { level: 9 }).byteLength,
}));
for (const a of browserAssets) {
	process.stdout.write(`browser ${a.name}: ${kib(a.bytes)} raw, ${kib(a.gzip_bytes)} gzip\n`);
}
const CHECKOUT_ASSET_BUDGET = 85 * 1024;
const checkoutGzip = browserAssets
	.filter((a) => a.name === "checkout.js" || a.name === "checkout.css")
	.reduce((sum, a) => sum + a.gzip_bytes, 0);

const report = {
	measured_at: new Date().toISOString(),
	wrangler: wranglerVersion,
	modules,
	total_bytes: totalBytes,
	total_gzip_bytes: totalGzip,
	limit_gzip_bytes: budget,
	browser_assets: browserAssets,
};
// `npm test` only checks; `npm run bench:bundle` records the committed numbers.
if (process.argv.includes("--record")) {
	const kb = (bytes: number) => Math.round((bytes / 1024) * 10) / 10;
	writeResult({
		name: "bundle-size",
		title: "Worker bundle as `wrangler deploy` uploads it, and the checkout's browser assets",
		targets: [
			{
				name: "compressed Worker within the Workers Free limit (3 MiB)",
				met: totalGzip <= budget,
				detail: `${kib(totalGzip)} gzip, ${share}% of ${kib(budget)}`,
			},
			{
				name: `checkout script and stylesheet ≤ ${kib(CHECKOUT_ASSET_BUDGET)} gzip`,
				met: checkoutGzip <= CHECKOUT_ASSET_BUDGET,
				detail: `${kib(checkoutGzip)} gzip`,
			},
		],
		tables: [
			{
				title: `Worker modules (wrangler ${wranglerVersion})`,
				columns: ["Module", "KB", "KB gzip"],
				rows: [
					...modules.map((m) => [m.name, kb(m.bytes), kb(m.gzip_bytes)]),
					["total", kb(totalBytes), kb(totalGzip)],
				],
			},
			{
				title: "Browser assets",
				columns: ["Asset", "KB", "KB gzip"],
				rows: browserAssets.map((a) => [a.name, kb(a.bytes), kb(a.gzip_bytes)]),
			},
		],
		data: report,
	});
	process.stdout.write(`wrote ${RESULT_FILE}\n`);
}

if (totalGzip > budget) {
	fail(`compressed Worker is ${totalGzip} bytes, over the ${budget}-byte budget`);
}
if (checkoutGzip > CHECKOUT_ASSET_BUDGET) {
	fail(
		`checkout script and stylesheet are ${checkoutGzip} bytes gzip, over ${CHECKOUT_ASSET_BUDGET}`,
	);
}
