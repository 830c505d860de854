import { createMiddleware } from "hono/factory";
import { newId } from "../domain/ids";
import type { AppEnv } from "../types";

/** Gives every request an id, echoed in the `Request-Id` header and in every error body. */
export function requestId() {
	return createMiddleware<AppEnv>(async (c, next) => {
		const id = newId("request");
		c.set("requestId", id);
		c.header("Request-Id", id);
		await next();
		c.res.headers.set("Request-Id", id);
	});
}
