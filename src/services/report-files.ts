/**
 * Writing report files to R2. Rows are rendered as they are read and sent to R2 in parts, so a
 * report's size is bounded by R2, not by the Worker's memory: a file under one part is one put,
 * a larger one a multipart upload (R2 wants every part but the last of the same size).
 */
import { TRANSACTION_COLUMNS, transactionCells, transactionJson } from "../domain/report-rows";
import { csvLine, formatUnits, toCsv, toJsonText } from "../domain/reports";
import { isReconciled, SETTLEMENT_AMOUNTS, type SettlementLine } from "../domain/settlement";
import type { Env } from "../env";
import { digitsResolver, type Scope, type SettlementData, transactionRows } from "./report-data";

export const CONTENT_TYPES = { csv: "text/csv; charset=utf-8", json: "application/json" } as const;
export type ReportFormat = keyof typeof CONTENT_TYPES;

/** R2's smallest part (5 MiB); every part but the last is exactly this size. */
const PART_BYTES = 5 * 1024 * 1024;
const encoder = new TextEncoder();

export function reportKey(
	merchantId: string,
	livemode: boolean,
	id: string,
	format: ReportFormat,
): string {
	return `reports/${merchantId}/${livemode ? "live" : "test"}/${id}.${format}`;
}

/** Appends text to one R2 object, uploading fixed-size parts as they fill. */
class R2TextWriter {
	private readonly buffer = new Uint8Array(PART_BYTES);
	private filled = 0;
	private upload: R2MultipartUpload | null = null;
	private readonly parts: R2UploadedPart[] = [];
	size = 0;

	constructor(
		private readonly bucket: R2Bucket,
		private readonly key: string,
		private readonly contentType: string,
	) {}

	async write(text: string): Promise<void> {
		let bytes = encoder.encode(text);
		this.size += bytes.length;
		while (bytes.length > 0) {
			const take = Math.min(bytes.length, PART_BYTES - this.filled);
			this.buffer.set(bytes.subarray(0, take), this.filled);
			this.filled += take;
			bytes = bytes.subarray(take);
			if (this.filled === PART_BYTES) await this.uploadPart();
		}
	}

	private async uploadPart(): Promise<void> {
		this.upload ??= await this.bucket.createMultipartUpload(this.key, {
			httpMetadata: { contentType: this.contentType },
		});
		const part = await this.upload.uploadPart(
			this.parts.length + 1,
			this.buffer.slice(0, this.filled),
		);
		this.parts.push(part);
		this.filled = 0;
	}

	/** Finishes the object; returns its size in bytes. */
	async close(): Promise<number> {
		if (!this.upload) {
			await this.bucket.put(this.key, this.buffer.slice(0, this.filled), {
				httpMetadata: { contentType: this.contentType },
			});
			return this.size;
		}
		if (this.filled > 0) await this.uploadPart();
		await this.upload.complete(this.parts);
		return this.size;
	}

	async abort(): Promise<void> {
		await this.upload?.abort().catch(() => undefined);
	}
}

export interface WrittenReport {
	rows: number;
	csv: { key: string; size: number };
	json: { key: string; size: number };
	/** Settlement only: closing balances per currency, for the next day's opening. */
	balances: Record<string, string> | null;
}

export interface ReportHeader {
	id: string;
	type: "transactions" | "settlement";
	livemode: boolean;
	from: string;
	to: string;
	created: number;
}

function bucketOf(env: Env): R2Bucket {
	if (!env.REPORTS_BUCKET) throw new Error("Reports need the REPORTS_BUCKET R2 binding");
	return env.REPORTS_BUCKET;
}

/** The transactions report: CSV and JSON written side by side as rows stream from D1. */
export async function writeTransactions(
	env: Env,
	report: ReportHeader,
	scope: Scope,
): Promise<WrittenReport> {
	const bucket = bucketOf(env);
	const digitsOf = digitsResolver(env);
	const keys = {
		csv: reportKey(scope.merchantId, scope.livemode, report.id, "csv"),
		json: reportKey(scope.merchantId, scope.livemode, report.id, "json"),
	};
	const csv = new R2TextWriter(bucket, keys.csv, CONTENT_TYPES.csv);
	const json = new R2TextWriter(bucket, keys.json, CONTENT_TYPES.json);
	try {
		await csv.write(csvLine(TRANSACTION_COLUMNS));
		await json.write(`{"object":"report_file","report":${toJsonText(report)},"data":[`);
		let rows = 0;
		for await (const row of transactionRows(env, scope, digitsOf)) {
			await csv.write(csvLine(transactionCells(row, digitsOf)));
			await json.write((rows === 0 ? "" : ",") + toJsonText(transactionJson(row, digitsOf)));
			rows++;
		}
		await json.write(`],"rows":${rows}}`);
		return {
			rows,
			csv: { key: keys.csv, size: await csv.close() },
			json: { key: keys.json, size: await json.close() },
			balances: null,
		};
	} catch (err) {
		await Promise.all([csv.abort(), json.abort()]);
		throw err;
	}
}

export const SETTLEMENT_COLUMNS = [
	"currency",
	...SETTLEMENT_AMOUNTS.flatMap((k) => [k, `${k}_decimal`]),
	"reconciled",
] as const;

/** A settlement line's amounts: integers of the smallest unit and their decimals. */
function settlementAmounts(line: SettlementLine, digits: number | null) {
	const out: Record<string, string | null> = {};
	for (const k of SETTLEMENT_AMOUNTS) {
		out[k] = line[k].toString();
		out[`${k}_decimal`] = digits === null ? null : formatUnits(line[k], digits);
	}
	return out;
}

/** The settlement statement: one line per currency, with the reconciliation's result. */
export async function writeSettlement(
	env: Env,
	report: ReportHeader,
	scope: Scope,
	data: SettlementData,
): Promise<WrittenReport> {
	const bucket = bucketOf(env);
	const digitsOf = digitsResolver(env);
	const lines = data.lines.map((line) => ({
		currency: line.currency,
		...settlementAmounts(line, digitsOf(line.currency)),
	}));
	const csvText = toCsv(
		SETTLEMENT_COLUMNS,
		data.lines.map((line, i) => [
			...SETTLEMENT_COLUMNS.slice(0, -1).map((c) => (lines[i] as Record<string, string | null>)[c]),
			line.difference === 0n,
		]),
	);
	const reconciled = isReconciled(data.lines);
	const difference = Object.fromEntries(
		data.lines.filter((l) => l.difference !== 0n).map((l) => [l.currency, l.difference.toString()]),
	);
	const jsonText = toJsonText({
		object: "report_file",
		report,
		opening_source: data.opening_source,
		reconciled: reconciled ? true : { difference },
		data: data.lines.map((line, i) => ({ ...lines[i], reconciled: line.difference === 0n })),
		rows: data.lines.length,
	});
	const keys = {
		csv: reportKey(scope.merchantId, scope.livemode, report.id, "csv"),
		json: reportKey(scope.merchantId, scope.livemode, report.id, "json"),
	};
	const [csvBytes, jsonBytes] = [encoder.encode(csvText), encoder.encode(jsonText)];
	await Promise.all([
		bucket.put(keys.csv, csvBytes, { httpMetadata: { contentType: CONTENT_TYPES.csv } }),
		bucket.put(keys.json, jsonBytes, { httpMetadata: { contentType: CONTENT_TYPES.json } }),
	]);
	return {
		rows: data.lines.length,
		csv: { key: keys.csv, size: csvBytes.length },
		json: { key: keys.json, size: jsonBytes.length },
		balances: Object.fromEntries(data.lines.map((l) => [l.currency, l.closing_balance.toString()])),
	};
}
