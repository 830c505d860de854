import {
	formatBaseUnits,
	formatMinorUnits,
	isSupportedCurrency,
	MoneyError,
	parseDecimal,
} from "../domain/money";
import { type PayoutCurrency, PayoutInputError, parsePayoutCurrency } from "../domain/payout";
import type { Env } from "../env";
import { ApiError } from "../lib/errors";
import { createPayout } from "../services/payouts";
import { tokenCatalog } from "../services/tokens";
import { auditDashboard } from "./access";
import { PageError } from "./context";
import { checkFormToken, type FormOutcome, onceByFormToken } from "./form-once";
import type { DashboardSession } from "./session";

// The dashboard's manual payout form: an amount typed in major units ("12.50" USD, "0.5" SOL),
// made into minor or base units here, then the same service as POST /v1/payouts, once per form
// token (a double submit or a resent step-up form makes one payout).

export interface PayoutFormInput {
	formToken: string | undefined;
	amount: string | undefined;
	currency: string | undefined;
	destination: string | undefined;
}

function refuse(message: string): never {
	throw new PageError(400, "Check the form", message);
}

/** A decimal in major units as base units of a token with `decimals` (no float on the way). */
export function tokenBaseUnits(typed: string, decimals: number): bigint {
	const match = /^(\d{1,20})(?:\.(\d+))?$/.exec(typed);
	if (!match) throw new MoneyError("amount_invalid", "not a decimal amount");
	const fraction = match[2] ?? "";
	if (fraction.length > decimals) {
		throw new MoneyError("amount_invalid", `at most ${decimals} decimal places`);
	}
	return BigInt(`${match[1]}${fraction.padEnd(decimals, "0")}`);
}

/** The currency and the amount in its smallest units, or a 400 page naming the problem. */
export function parsePayoutForm(env: Env, input: PayoutFormInput) {
	let currency: PayoutCurrency;
	try {
		currency = parsePayoutCurrency(input.currency ?? "", tokenCatalog(env));
	} catch (error) {
		if (error instanceof PayoutInputError) refuse(error.message);
		throw error;
	}
	const typed = input.amount ?? "";
	const unit = currency.kind === "token" ? currency.token.symbol : currency.currency.toUpperCase();
	let amount: bigint;
	try {
		amount =
			currency.kind === "token"
				? tokenBaseUnits(typed, currency.token.decimals)
				: parseDecimal(typed, currency.currency);
	} catch (error) {
		if (!(error instanceof MoneyError)) throw error;
		refuse(`'${typed.slice(0, 40)}' is not an amount of ${unit} (e.g. 12.50).`);
	}
	if (amount <= 0n) refuse("The amount must be above zero.");
	return { currency, amount };
}

/** Creates the payout once per form token; the audit entry names the person. */
export async function payoutOnce(
	env: Env,
	session: DashboardSession,
	input: PayoutFormInput,
): Promise<FormOutcome> {
	const formToken = checkFormToken(input.formToken, "payout");
	const { currency, amount } = parsePayoutForm(env, input);
	return onceByFormToken(
		env,
		session,
		{
			kind: "payout",
			formToken,
			request: `${currency.currency}\n${amount}\n${input.destination ?? ""}`,
		},
		async () => {
			const payout = await createPayout(env, {
				merchantId: session.merchantId,
				livemode: session.livemode,
				amount,
				currency: currency.kind === "token" ? currency.token.symbol : currency.currency,
				destinationId: input.destination,
				automatic: false,
			});
			await auditDashboard(env, session, "payout.created", payout.id, {
				amount: payout.amount,
				currency: payout.currency,
				destination: payout.destination_id,
			});
			return payout.id;
		},
	);
}

/** An amount as stored (minor or base units) in its currency, for people: "12.50 USD", "0.5 SOL". */
export function formatPayoutAmount(env: Env, amount: string | number, currency: string): string {
	if (isSupportedCurrency(currency)) {
		return `${formatMinorUnits(BigInt(amount), currency)} ${currency.toUpperCase()}`;
	}
	const token = tokenCatalog(env).find((t) => (t.mint ?? "sol") === currency);
	if (!token) return `${amount} ${currency}`;
	return `${formatBaseUnits(BigInt(amount), token.decimals)} ${token.symbol}`;
}

/** Whether an error is a refusal the form shows (the service's own message), not a failure. */
export function isRefusal(error: unknown): error is ApiError {
	return error instanceof ApiError && error.status < 500;
}
