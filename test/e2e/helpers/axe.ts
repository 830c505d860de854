import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Page } from "playwright-core";

// axe-core in the page under test: its source is evaluated through the DevTools protocol (which
// the pages' strict CSP does not govern, as it would a <script> tag), then `axe.run` checks the
// document as it stands. Only serious and critical violations fail a test.

const AXE_SOURCE = readFileSync(
	createRequire(import.meta.url).resolve("axe-core/axe.min.js"),
	"utf8",
);

export interface AxeViolation {
	id: string;
	impact: string | null;
	help: string;
	targets: string[];
}

interface AxeScope {
	axe?: {
		run(
			context: unknown,
			options: unknown,
		): Promise<{
			violations: {
				id: string;
				impact: string | null;
				help: string;
				nodes: { target: unknown[] }[];
			}[];
		}>;
	};
}

/**
 * The page's serious and critical violations. Third-party frames (Stripe's card fields) are
 * left out: they are Stripe's to make accessible, and axe cannot enter a cross-origin frame
 * that does not run it.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
	const loaded = await page.evaluate(() => "axe" in globalThis);
	if (!loaded) await page.evaluate(AXE_SOURCE);
	const violations = await page.evaluate(async () => {
		const axe = (globalThis as unknown as AxeScope).axe;
		if (!axe) throw new Error("axe-core did not load in the page");
		const doc = (globalThis as unknown as { document: unknown }).document;
		const result = await axe.run(doc, { resultTypes: ["violations"], iframes: false });
		return result.violations.map((v) => ({
			id: v.id,
			impact: v.impact,
			help: v.help,
			targets: v.nodes.map((n) => n.target.map(String).join(" ")),
		}));
	});
	return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** One line per violation, so a failing test says what to fix and where. */
export function describeViolations(violations: AxeViolation[]): string[] {
	return violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.targets.join(", ")}`);
}
