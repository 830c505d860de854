/**
 * The dashboard's script: draws the overview's charts with uPlot from the page's JSON data
 * block, keeps a submitted form from being sent twice by a double click (the server makes one
 * refund per form anyway), runs the passkey ceremonies (sign-in, registration, step-up) and has a
 * wallet sign the proof that adds a payout destination.
 * Pages without charts or passkeys work without it.
 */
import uPlot from "uplot";
import type { ChartSpec, OverviewData } from "../dashboard/chart-spec";
import { wirePasskeyForms } from "./passkeys";
import { wireWalletProofForms } from "./payout-wallet";

function readData(): OverviewData | null {
	const node = document.getElementById("dashboard-data");
	if (!node?.textContent) return null;
	try {
		return JSON.parse(node.textContent) as OverviewData;
	} catch {
		return null;
	}
}

function formatValue(spec: ChartSpec, value: number | null): string {
	if (value === null || Number.isNaN(value)) return "–";
	const unit = spec.unit;
	if (unit.kind === "ratio") return `${(value * 100).toFixed(1)}%`;
	if (unit.kind === "money") {
		const major = value / 10 ** unit.exponent;
		return `${major.toLocaleString("en-US", {
			minimumFractionDigits: unit.exponent,
			maximumFractionDigits: unit.exponent,
		})} ${unit.currency.toUpperCase()}`;
	}
	return String(Math.round(value));
}

/** Whole-number tick steps (1, 2, 5, 10, 20, …): counts and minor units have no fractions. */
const WHOLE_STEPS = Array.from({ length: 13 }, (_, k) => [1, 2, 5].map((m) => m * 10 ** k)).flat();

/** The top of an all-zero chart: one major unit of money, one of a count. */
function emptyTop(spec: ChartSpec): number {
	return spec.unit.kind === "money" ? 10 ** spec.unit.exponent : 1;
}

function draw(spec: ChartSpec, target: HTMLElement): uPlot {
	const width = Math.max(280, target.clientWidth || 600);
	const bars = spec.style === "bars";
	const categories = spec.categories ?? [];
	const opts: uPlot.Options = {
		width,
		height: 240,
		scales: {
			x: { time: spec.kind === "time", ...(bars ? { range: [-0.5, spec.x.length - 0.5] } : {}) },
			y:
				spec.unit.kind === "ratio"
					? { range: [0, 1] }
					: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : emptyTop(spec)] },
		},
		axes: [
			spec.kind === "category"
				? { values: (_u, splits) => splits.map((i) => categories[i] ?? ""), incrs: WHOLE_STEPS }
				: {},
			{
				values: (_u, splits) => splits.map((v) => formatValue(spec, v)),
				size: 80,
				...(spec.unit.kind === "ratio" ? {} : { incrs: WHOLE_STEPS }),
			},
		],
		series: [
			spec.kind === "category"
				? { label: "", value: (_u, i) => (i === null ? "" : (categories[i] ?? "")) }
				: {},
			...spec.series.map((s) => ({
				label: s.label,
				stroke: s.color,
				width: 2,
				...(bars
					? {
							fill: s.color,
							paths: uPlot.paths.bars?.({ size: [0.6, 60] }),
							points: { show: false },
						}
					: // Points too: a day with a value between days without one is still seen.
						{ spanGaps: false, points: { show: true, size: 6 } }),
				value: (_u: uPlot, v: number | null) => formatValue(spec, v),
			})),
		],
	};
	const data = [spec.x, ...spec.series.map((s) => s.values)] as uPlot.AlignedData;
	return new uPlot(opts, data, target);
}

function drawCharts(): void {
	const data = readData();
	if (!data) return;
	const plots: { plot: uPlot; target: HTMLElement }[] = [];
	for (const spec of data.charts) {
		const target = document.getElementById(`chart-${spec.id}`);
		if (!target) continue;
		target.textContent = "";
		plots.push({ plot: draw(spec, target), target });
	}
	let pending = 0;
	window.addEventListener("resize", () => {
		cancelAnimationFrame(pending);
		pending = requestAnimationFrame(() => {
			for (const { plot, target } of plots) {
				plot.setSize({ width: Math.max(280, target.clientWidth), height: 240 });
			}
		});
	});
}

function guardForms(): void {
	// Passkey and wallet forms run their own ceremony and re-enable themselves when it fails.
	for (const form of Array.from(
		document.querySelectorAll<HTMLFormElement>(
			"form[method=post]:not([data-passkey]):not([data-wallet-proof])",
		),
	)) {
		form.addEventListener("submit", () => {
			// After this tick, so the button's own name/value still goes with the form.
			setTimeout(() => {
				for (const button of Array.from(form.querySelectorAll("button"))) button.disabled = true;
			});
		});
	}
}

function start(): void {
	drawCharts();
	guardForms();
	wirePasskeyForms();
	wireWalletProofForms();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
