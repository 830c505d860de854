import { z } from "@hono/zod-openapi";
import { DecryptionError, EncryptionConfigError, loadKeyring } from "../../lib/encryption";
import { ApiError } from "../../lib/errors";
import { log } from "../../lib/log";
import { parseCursor, rotateBatch } from "../../services/encryption-rotation";
import type { App } from "../../types";
import { adminRoute, jsonResponse, optionalJsonBody } from "../define";
import { errorResponses } from "../schemas";

const RotateBody = z
	.object({
		cursor: z.string().max(100).optional().openapi({
			description: "`next_cursor` of the previous batch; omit to start from the beginning.",
		}),
		limit: z.number().int().min(1).max(500).default(100).openapi({
			description: "Rows read in this batch (1-500, default 100).",
		}),
	})
	.strict();

const RotationSchema = z
	.object({
		object: z.literal("encryption_rotation"),
		current_key: z.string().openapi({ description: "The key id new envelopes are wrapped with." }),
		table: z.enum(["webhook_endpoints", "customers", "idempotency_keys"]),
		scanned: z.number().int(),
		rotated: z.number().int(),
		next_cursor: z.string().nullable(),
		done: z.boolean(),
	})
	.openapi("EncryptionRotation");

const rotate = adminRoute({
	method: "post",
	path: "/admin/v1/encryption/rotate",
	tags: ["Admin"],
	summary: "Re-encrypt one batch of sealed fields under the current key",
	description:
		"Walks webhook signing secrets, customer emails and stored idempotent responses in order and re-encrypts what is not yet under the first key of ENCRYPTION_KEYS (and seals emails stored before encryption). Call again with `next_cursor` until `done`; safe to repeat or resume (`npm run keys:rotate`).",
	request: {
		body: optionalJsonBody(RotateBody),
	},
	responses: {
		200: jsonResponse("The batch's progress", RotationSchema),
		...errorResponses(400, 401, 409),
	},
});

export function registerAdminEncryption(app: App): void {
	app.openapi(rotate, async (c) => {
		const body = c.req.valid("json") ?? { limit: 100 };
		const position = parseCursor(body.cursor);
		if (!position) throw new ApiError("parameter_invalid", "Unknown rotation cursor.", "cursor");
		let keyring: Awaited<ReturnType<typeof loadKeyring>>;
		try {
			keyring = await loadKeyring(c.env.ENCRYPTION_KEYS);
		} catch (error) {
			if (!(error instanceof EncryptionConfigError)) throw error;
			throw new ApiError("service_unavailable", error.message);
		}
		let batch: Awaited<ReturnType<typeof rotateBatch>>;
		try {
			batch = await rotateBatch(c.env, keyring, position, body.limit ?? 100);
		} catch (error) {
			if (!(error instanceof DecryptionError)) throw error;
			// A key was removed before its rows were rotated: put it back (after the current key).
			throw new ApiError(
				"resource_conflict",
				`A row after cursor '${body.cursor ?? ""}' cannot be opened: ${error.message}. Restore the missing key to ENCRYPTION_KEYS and run the rotation again.`,
			);
		}
		log("info", "encryption rotation batch", { ...batch });
		return c.json(batch, 200);
	});
}

/** The shapes these operations answer with, for their tests and clients. */
export type RotationResponse = z.infer<typeof RotationSchema>;
