import type Stripe from "stripe";
import type { Router } from "../http.js";
import { type ApiCall, apiRoute } from "./api.js";
import { refreshBalanceTransaction } from "./charges.js";
import { createDispute } from "./disputes.js";
import type { StripeEmulator } from "./emulator.js";
import { invalidParam, invalidRequest, missingParam } from "./errors.js";
import { applyMetadata } from "./form.js";
import { createRefund, REFUND_REASONS } from "./refunds.js";
import { createdFilter, listPage, snapshot } from "./store.js";

// HTTP endpoints for charges, refunds, balance transactions, disputes and events.

function chargeForRefund(call: ApiCall): Stripe.Charge {
	const { em, params } = call;
	const chargeId = params.string("charge");
	const intentId = params.string("payment_intent");
	if (!chargeId && !intentId) throw missingParam("charge");
	if (chargeId && intentId) {
		throw invalidParam("You can only specify one of charge and payment_intent.", "payment_intent");
	}
	if (chargeId) {
		const charge = em.store.charges.get(chargeId);
		if (!charge) throw invalidParam(`No such charge: '${chargeId}'`, "charge", "resource_missing");
		return charge;
	}
	const intent = em.store.paymentIntents.get(intentId as string);
	if (!intent) {
		throw invalidParam(
			`No such payment_intent: '${intentId}'`,
			"payment_intent",
			"resource_missing",
		);
	}
	const charge = intent.latest_charge
		? em.store.charges.get(intent.latest_charge as string)
		: undefined;
	if (intent.status !== "succeeded" || !charge) {
		throw invalidRequest(
			`This PaymentIntent (${intent.id}) does not have a successful charge to refund.`,
			{
				param: "payment_intent",
			},
		);
	}
	return charge;
}

function createRefundRoute(call: ApiCall): unknown {
	const { em, params, ctx } = call;
	params.only([
		"amount",
		"charge",
		"currency",
		"customer",
		"expand",
		"instructions_email",
		"metadata",
		"origin",
		"payment_intent",
		"reason",
		"refund_application_fee",
		"reverse_transfer",
	]);
	const charge = chargeForRefund(call);
	const currency = params.string("currency");
	if (currency !== undefined && currency.toLowerCase() !== charge.currency) {
		throw invalidParam(
			`The currency (${currency}) does not match the currency of the charge (${charge.currency}).`,
			"currency",
		);
	}
	const refund = createRefund(
		em,
		{
			charge,
			amount: params.positiveInteger("amount"),
			reason: params.enumeration("reason", REFUND_REASONS) ?? null,
			metadata: applyMetadata({}, params.metadata()),
		},
		ctx,
	);
	return snapshot(refund);
}

function listRefunds({ em, params }: ApiCall): unknown {
	params.only([
		"charge",
		"created",
		"ending_before",
		"expand",
		"limit",
		"payment_intent",
		"starting_after",
	]);
	const charge = params.string("charge");
	const intent = params.string("payment_intent");
	const created = createdFilter(params);
	const items = [...em.store.refunds.values()].filter(
		(refund) =>
			(!charge || refund.charge === charge) &&
			(!intent || refund.payment_intent === intent) &&
			created(refund.created),
	);
	return listPage(items, params, "/v1/refunds", "refund");
}

function listCharges({ em, params }: ApiCall): unknown {
	params.only([
		"created",
		"customer",
		"ending_before",
		"expand",
		"limit",
		"payment_intent",
		"starting_after",
		"transfer_group",
	]);
	const intent = params.string("payment_intent");
	const created = createdFilter(params);
	const items = [...em.store.charges.values()].filter(
		(charge) => (!intent || charge.payment_intent === intent) && created(charge.created),
	);
	return listPage(items, params, "/v1/charges", "charge");
}

function listBalanceTransactions({ em, params }: ApiCall): unknown {
	params.only([
		"created",
		"currency",
		"ending_before",
		"expand",
		"limit",
		"payout",
		"source",
		"starting_after",
		"type",
	]);
	const type = params.string("type");
	const source = params.string("source");
	const currency = params.string("currency");
	const created = createdFilter(params);
	const items = [...em.store.balanceTransactions.values()].filter(
		(txn) =>
			(!type || txn.type === type) &&
			(!source || txn.source === source) &&
			(!currency || txn.currency === currency) &&
			created(txn.created),
	);
	for (const txn of items) refreshBalanceTransaction(em.store, txn);
	return listPage(items, params, "/v1/balance_transactions", "balance_transaction");
}

function listEvents({ em, params }: ApiCall): unknown {
	params.only([
		"created",
		"delivery_success",
		"ending_before",
		"expand",
		"limit",
		"starting_after",
		"type",
		"types",
	]);
	const type = params.string("type");
	const types = params.list("types");
	if (type && types)
		throw invalidParam("You may only specify one of these parameters: type, types.", "types");
	// `type` accepts one `*` wildcard, as in `payment_intent.*`.
	const pattern = type
		? new RegExp(`^${type.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace("*", ".*")}$`)
		: null;
	const created = createdFilter(params);
	const items = [...em.store.events.values()].filter(
		(event) =>
			(!pattern || pattern.test(event.type)) &&
			(!types || types.includes(event.type)) &&
			created(event.created),
	);
	return listPage(items, params, "/v1/events", "event");
}

function retrieve<T>(
	kind: string,
	map: (em: StripeEmulator) => Map<string, T>,
	refresh?: (em: StripeEmulator, item: T) => void,
) {
	return ({ em, params, path }: ApiCall): unknown => {
		params.only(["expand"]);
		const item = em.store.get(map(em), kind, path.id ?? "");
		refresh?.(em, item);
		return snapshot(item);
	};
}

function disputeRoute({ em, params, path, ctx }: ApiCall): unknown {
	params.only(["reason", "amount", "expand"]);
	const charge = em.store.get(em.store.charges, "charge", path.id ?? "");
	const reason = params.string("reason");
	const amount = params.positiveInteger("amount");
	const dispute = createDispute(
		em,
		charge,
		{ ...(reason ? { reason } : {}), ...(amount !== undefined ? { amount } : {}) },
		ctx,
	);
	return snapshot(dispute);
}

export function registerResourceRoutes(router: Router, em: StripeEmulator): void {
	router
		.get("/v1/charges", apiRoute(em, listCharges))
		.get(
			"/v1/charges/:id",
			apiRoute(
				em,
				retrieve("charge", (e) => e.store.charges),
			),
		)
		.post("/v1/charges/:id/_test/dispute", apiRoute(em, disputeRoute, { test: true }))
		.post("/v1/refunds", apiRoute(em, createRefundRoute))
		.get("/v1/refunds", apiRoute(em, listRefunds))
		.get(
			"/v1/refunds/:id",
			apiRoute(
				em,
				retrieve("refund", (e) => e.store.refunds),
			),
		)
		.post(
			"/v1/refunds/:id",
			apiRoute(em, ({ em: emulator, params, path }) => {
				params.only(["metadata", "expand"]);
				const refund = emulator.store.get(emulator.store.refunds, "refund", path.id ?? "");
				refund.metadata = applyMetadata(refund.metadata ?? {}, params.metadata());
				return snapshot(refund);
			}),
		)
		.get("/v1/balance_transactions", apiRoute(em, listBalanceTransactions))
		.get(
			"/v1/balance_transactions/:id",
			apiRoute(
				em,
				retrieve(
					"balance_transaction",
					(e) => e.store.balanceTransactions,
					(e, txn) => refreshBalanceTransaction(e.store, txn),
				),
			),
		)
		.get(
			"/v1/disputes/:id",
			apiRoute(
				em,
				retrieve("dispute", (e) => e.store.disputes),
			),
		)
		.get("/v1/events", apiRoute(em, listEvents))
		.get(
			"/v1/events/:id",
			apiRoute(
				em,
				retrieve("event", (e) => e.store.events),
			),
		);
}
