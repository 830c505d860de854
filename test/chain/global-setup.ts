import type { TestProject } from "vitest/node";
import { startSuiteSandbox } from "../worker/global-setup";

/** This suite's settlement wallet (vitest.chain.config.mts): no other suite touches it. */
const CHAIN_WALLET = "ETfXgxxBzuFNptH8u5CGRk8NE4jkUvjVgVQ4mh4A7xXp";

/** A sandbox of the suite's own, with the suite's wallet as its settlement wallet. */
export default function setup(project: TestProject) {
	return startSuiteSandbox(project, CHAIN_WALLET);
}
