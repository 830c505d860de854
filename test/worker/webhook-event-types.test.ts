import { describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../../src/domain/event-types";
import { call, createMerchant, expectApiError, json } from "./helpers/api";
import { createEndpoint, type EndpointJson } from "./helpers/webhooks";

const URL = "https://shop.example/hooks";

function create(key: string, enabled_events: unknown) {
	return call("POST", "/v1/webhook_endpoints", { key, body: { url: URL, enabled_events } });
}

async function expectUnknown(res: Response, unknown: string[]) {
	const error = await expectApiError(res, "parameter_invalid", "enabled_events");
	expect(error.message).toBe(
		`Invalid enabled_events: unknown event type ${unknown.map((t) => `'${t}'`).join(", ")}. Use '*' for every type, or any of: ${EVENT_TYPES.join(", ")}.`,
	);
	// The message lists what can be subscribed to, including the newest types.
	expect(error.message).toContain("payment.extra_funds_received");
	expect(error.message).toContain("refund.succeeded");
}

describe("webhook endpoints accept only event types the gateway emits", () => {
	it("create: an unknown type is a 400 naming it and listing the known ones", async () => {
		const m = await createMerchant();
		await expectUnknown(await create(m.sk, ["nope.nope"]), ["nope.nope"]);
		await expectUnknown(
			await create(m.sk, ["payment.succeeded", "nope.nope", "payment.approved"]),
			["nope.nope", "payment.approved"],
		);
		const list = await json<{ data: unknown[] }>(
			await call("GET", "/v1/webhook_endpoints", { key: m.sk }),
		);
		expect(list.data).toEqual([]);
	});

	it("create: '*' and every known type are accepted", async () => {
		const m = await createMerchant();
		expect(
			(await createEndpoint(m.sk, { url: URL, enabled_events: ["*"] })).enabled_events,
		).toEqual(["*"]);
		const all = await createEndpoint(m.sk, { url: URL, enabled_events: [...EVENT_TYPES] });
		expect(all.enabled_events).toEqual([...EVENT_TYPES]);
	});

	it("update: an unknown type is a 400 and the endpoint keeps its events", async () => {
		const m = await createMerchant();
		const endpoint = await createEndpoint(m.sk, {
			url: URL,
			enabled_events: ["payment.succeeded"],
		});
		const path = `/v1/webhook_endpoints/${endpoint.id}`;
		await expectUnknown(
			await call("POST", path, { key: m.sk, body: { enabled_events: ["nope.nope"] } }),
			["nope.nope"],
		);
		const kept = await json<EndpointJson>(await call("GET", path, { key: m.sk }));
		expect(kept.enabled_events).toEqual(["payment.succeeded"]);

		const res = await call("POST", path, {
			key: m.sk,
			body: { enabled_events: ["payment.extra_funds_received", "refund.failed"] },
		});
		expect(res.status).toBe(200);
		expect((await json<EndpointJson>(res)).enabled_events).toEqual([
			"payment.extra_funds_received",
			"refund.failed",
		]);
	});

	it("documents the known types in the OpenAPI schema", async () => {
		const spec = await (await call("GET", "/v1/openapi.json")).text();
		expect(spec).toContain("`payment.extra_funds_received`");
	});
});
