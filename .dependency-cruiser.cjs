// The gateway's layering, checked by `npm run check:architecture` (docs/architecture.md explains
// the layers). npm packages are matched wherever node_modules lives, so a worktree whose
// node_modules is a symlink is judged like a clean clone.
const NPM = "(^|/)node_modules/";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
	forbidden: [
		{
			name: "no-circular",
			comment:
				"A cycle makes load order matter and layers meaningless; break it with a lower module both sides import.",
			severity: "error",
			from: { path: "^(src|durable-objects)/" },
			to: { circular: true },
		},
		{
			name: "domain-is-pure",
			comment:
				"src/domain is the product's rules as plain functions and types: it imports only itself and npm packages.",
			severity: "error",
			from: { path: "^src/domain/" },
			to: { pathNot: [`^src/domain/`, NPM] },
		},
		{
			name: "tables-through-db",
			comment:
				"Routes, checkout, dashboard and middleware read and write through src/db modules, never the schema or drizzle-orm.",
			severity: "error",
			from: { path: "^src/(routes|checkout|dashboard|middleware)/" },
			to: { path: [`^src/db/schema`, `${NPM}drizzle-orm/`] },
		},
		{
			name: "lower-layers-do-not-reach-up",
			comment:
				"domain, db, lib, services and processors serve the entry points; they import none of them.",
			severity: "error",
			from: { path: "^src/(services|db|domain|lib|processors)/" },
			to: { path: "^(durable-objects/|src/(routes|queues|dashboard|checkout)/)" },
		},
		{
			name: "no-dev-code-in-gateway",
			comment: "The sandbox, the tests and the scripts are never part of the deployed Worker.",
			severity: "error",
			from: { path: "^(src|durable-objects)/" },
			to: { path: "^(sandbox|test|scripts)/" },
		},
	],
	options: {
		tsPreCompilationDeps: true,
		tsConfig: { fileName: "tsconfig.json" },
		doNotFollow: { path: NPM },
		// Browser bundles (their own tsconfig) and generated assets are not the Worker's layers.
		exclude: { path: "^src/(client|generated)/" },
	},
};
