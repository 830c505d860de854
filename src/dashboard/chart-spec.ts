// What the overview page hands its script to draw (a JSON data block): shared by the Worker,
// which builds it, and the browser script, which draws it with uPlot. No imports: the browser
// build must not pull in Worker code.

export interface ChartSeries {
	label: string;
	/** One value per x; null where there is no value (a day without payments has no rate). */
	values: (number | null)[];
	color: string;
}

export interface ChartSpec {
	/** The element `#chart-<id>` the chart is drawn into. */
	id: string;
	title: string;
	/** `time`: x are Unix seconds (days); `category`: x are indexes into `categories`. */
	kind: "time" | "category";
	x: number[];
	categories?: string[];
	series: ChartSeries[];
	/** How the y values read: minor units of a currency (exponent given), a ratio, or a count. */
	unit:
		| { kind: "money"; currency: string; exponent: number }
		| { kind: "ratio" }
		| { kind: "count" };
	/** Lines for time series, bars for categories. */
	style: "line" | "bars";
}

export interface OverviewData {
	charts: ChartSpec[];
}
