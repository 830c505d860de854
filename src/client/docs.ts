/**
 * The API reference page's script: starts Swagger UI (served by the gateway from the pinned
 * swagger-ui-dist, so the page works offline) on this gateway's own OpenAPI document.
 */

interface SwaggerUiOptions {
	url: string;
	dom_id: string;
	deepLinking: boolean;
	/** Null: no badge fetched from validator.swagger.io, so the page calls no third party. */
	validatorUrl: null;
}

declare const SwaggerUIBundle: (options: SwaggerUiOptions) => unknown;

const root = document.getElementById("swagger-ui");
SwaggerUIBundle({
	url: root?.dataset.specUrl ?? "/v1/openapi.json",
	dom_id: "#swagger-ui",
	deepLinking: true,
	validatorUrl: null,
});
