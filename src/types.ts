import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Services } from "./context";
import type { Env } from "./env";

/** Who is calling, as established by the API key. */
export interface AuthContext {
	merchantId: string;
	livemode: boolean;
	keyId: string;
	keyType: "secret" | "publishable";
}

/** The app's Hono environment: the Worker's bindings, and what middleware sets per request. */
export interface AppEnv {
	Bindings: Env;
	Variables: {
		requestId: string;
		auth: AuthContext;
		/** The shared services (src/context.ts), set by the first middleware after the request id. */
		services: Services;
	};
}

export type App = OpenAPIHono<AppEnv>;
