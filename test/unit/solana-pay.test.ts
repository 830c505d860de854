import { describe, expect, it } from "vitest";
import {
	encodeTransactionRequest,
	encodeTransferRequest,
	parseTransferRequest,
} from "../../src/domain/solana-pay";

const WALLET = "mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN";
const USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
const REF1 = "82ZJ7nbGpixjeDCmEhUcmwXYfvurzAgGdtSMuHnUgyny";
const REF2 = "4fYNw3dojWmQ4dXtSGE9epjRGy9pFSx62YypT7avPYvA";

describe("Solana Pay transfer request URLs", () => {
	it("encodes a SOL request in user units with every field, as the specification's example does", () => {
		const url = encodeTransferRequest({
			recipient: WALLET,
			amount: 1_000_000_000n,
			decimals: 9,
			references: [REF1],
			label: "Michael",
			message: "Thanks for all the fish",
			memo: "OrderId12345",
		});
		expect(url).toBe(
			`solana:${WALLET}?amount=1&reference=${REF1}&label=Michael&message=Thanks%20for%20all%20the%20fish&memo=OrderId12345`,
		);
	});

	it("encodes an SPL token amount without trailing zeros or scientific notation", () => {
		const url = encodeTransferRequest({
			recipient: WALLET,
			amount: 1_500_000n,
			decimals: 6,
			splToken: USDC,
			references: [],
		});
		expect(url).toBe(`solana:${WALLET}?amount=1.5&spl-token=${USDC}`);
		expect(
			encodeTransferRequest({ recipient: WALLET, amount: 1n, decimals: 9, references: [] }),
		).toBe(`solana:${WALLET}?amount=0.000000001`);
		expect(
			encodeTransferRequest({
				recipient: WALLET,
				amount: 166_666_667n,
				decimals: 9,
				references: [],
			}),
		).toBe(`solana:${WALLET}?amount=0.166666667`);
	});

	it("repeats reference for several keys and percent-encodes text", () => {
		const url = encodeTransferRequest({
			recipient: WALLET,
			amount: 25n,
			decimals: 0,
			references: [REF1, REF2],
			label: "Café & Co",
			memo: "pay_01 #1",
		});
		const parsed = parseTransferRequest(url);
		expect(parsed).toEqual({
			recipient: WALLET,
			amount: "25",
			splToken: null,
			references: [REF1, REF2],
			label: "Café & Co",
			message: null,
			memo: "pay_01 #1",
		});
		expect(url).not.toContain(" ");
	});

	it("refuses addresses that are not base58 public keys", () => {
		expect(() =>
			encodeTransferRequest({ recipient: "0xdead", amount: 1n, decimals: 9, references: [] }),
		).toThrow("recipient");
		expect(() =>
			encodeTransferRequest({
				recipient: WALLET,
				amount: 1n,
				decimals: 9,
				references: ["not a key"],
			}),
		).toThrow("reference");
	});
});

describe("Solana Pay transaction request URLs", () => {
	it("uses the https link as is when it has no query", () => {
		expect(encodeTransactionRequest("https://pay.example.com/solana-pay/pay_1")).toBe(
			"solana:https://pay.example.com/solana-pay/pay_1",
		);
	});

	it("percent-encodes a link with a query, and appends label and message", () => {
		expect(
			encodeTransactionRequest("https://pay.example.com/tx?id=pay_1&t=abc", {
				label: "Shop",
				message: "Order 1",
			}),
		).toBe(
			"solana:https%3A%2F%2Fpay.example.com%2Ftx%3Fid%3Dpay_1%26t%3Dabc?label=Shop&message=Order%201",
		);
	});
});
