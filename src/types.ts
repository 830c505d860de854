import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Env } from "./env";

/** Who is calling, as established by the API key. */
export interface AuthContext {
	merchantId: string;
	livemode: boolean;
	keyId: string;
	keyType: "secret" | "publishable";
}

export interface AppEnv {
	Bindings: Env;
	Variables: {
		requestId: string;
		auth: AuthContext;
	};
}

export type App = OpenAPIHono<AppEnv>;
