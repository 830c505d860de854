import { runMerchantCreate } from "./lib/merchant-cli.js";
import { REPO_ROOT } from "./lib/paths.js";

// `npm run merchant:create -- --name "Acme" [--email x@y] [--url ...] [--json]`

const code = await runMerchantCreate(process.argv.slice(2), {
	env: process.env,
	root: REPO_ROOT,
	stdout: (text) => process.stdout.write(text),
	stderr: (text) => process.stderr.write(text),
});
process.exitCode = code;
