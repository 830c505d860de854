import { JsonRpcError, RPC_INVALID_PARAMS } from "./rpc-server.js";

// Transaction errors in the cluster's JSON form ("BlockhashNotFound",
// {"InstructionError":[0,{"Custom":1}]}) and its Display text, plus Solana's RPC error codes.

export const RPC_SEND_TRANSACTION_PREFLIGHT_FAILURE = -32002;
export const RPC_SIGNATURE_VERIFICATION_FAILURE = -32003;
export const RPC_NODE_UNHEALTHY = -32005;
export const RPC_UNSUPPORTED_TRANSACTION_VERSION = -32015;
export const RPC_MIN_CONTEXT_SLOT_NOT_REACHED = -32016;

/** The JSON a validator reports in `err` / `meta.err`. */
export type TransactionErrorJson = string | Record<string, unknown>;

// Indexes follow litesvm's TransactionErrorFieldless / InstructionErrorFieldless enums.
const TRANSACTION_ERRORS = [
	"AccountInUse",
	"AccountLoadedTwice",
	"AccountNotFound",
	"ProgramAccountNotFound",
	"InsufficientFundsForFee",
	"InvalidAccountForFee",
	"AlreadyProcessed",
	"BlockhashNotFound",
	"CallChainTooDeep",
	"MissingSignatureForFee",
	"InvalidAccountIndex",
	"SignatureFailure",
	"InvalidProgramForExecution",
	"SanitizeFailure",
	"ClusterMaintenance",
	"AccountBorrowOutstanding",
	"WouldExceedMaxBlockCostLimit",
	"UnsupportedVersion",
	"InvalidWritableAccount",
	"WouldExceedMaxAccountCostLimit",
	"WouldExceedAccountDataBlockLimit",
	"TooManyAccountLocks",
	"AddressLookupTableNotFound",
	"InvalidAddressLookupTableOwner",
	"InvalidAddressLookupTableData",
	"InvalidAddressLookupTableIndex",
	"InvalidRentPayingAccount",
	"WouldExceedMaxVoteCostLimit",
	"WouldExceedAccountDataTotalLimit",
	"MaxLoadedAccountsDataSizeExceeded",
	"ResanitizationNeeded",
	"InvalidLoadedAccountsDataSizeLimit",
	"UnbalancedTransaction",
	"ProgramCacheHitMaxLimit",
	"CommitCancelled",
];

const INSTRUCTION_ERRORS = [
	"GenericError",
	"InvalidArgument",
	"InvalidInstructionData",
	"InvalidAccountData",
	"AccountDataTooSmall",
	"InsufficientFunds",
	"IncorrectProgramId",
	"MissingRequiredSignature",
	"AccountAlreadyInitialized",
	"UninitializedAccount",
	"UnbalancedInstruction",
	"ModifiedProgramId",
	"ExternalAccountLamportSpend",
	"ExternalAccountDataModified",
	"ReadonlyLamportChange",
	"ReadonlyDataModified",
	"DuplicateAccountIndex",
	"ExecutableModified",
	"RentEpochModified",
	"NotEnoughAccountKeys",
	"AccountDataSizeChanged",
	"AccountNotExecutable",
	"AccountBorrowFailed",
	"AccountBorrowOutstanding",
	"DuplicateAccountOutOfSync",
	"InvalidError",
	"ExecutableDataModified",
	"ExecutableLamportChange",
	"ExecutableAccountNotRentExempt",
	"UnsupportedProgramId",
	"CallDepth",
	"MissingAccount",
	"ReentrancyNotAllowed",
	"MaxSeedLengthExceeded",
	"InvalidSeeds",
	"InvalidRealloc",
	"ComputationalBudgetExceeded",
	"PrivilegeEscalation",
	"ProgramEnvironmentSetupFailure",
	"ProgramFailedToComplete",
	"ProgramFailedToCompile",
	"Immutable",
	"IncorrectAuthority",
	"AccountNotRentExempt",
	"InvalidAccountOwner",
	"ArithmeticOverflow",
	"UnsupportedSysvar",
	"IllegalOwner",
	"MaxAccountsDataAllocationsExceeded",
	"MaxAccountsExceeded",
	"MaxInstructionTraceLengthExceeded",
	"BuiltinProgramsMustConsumeComputeUnits",
	"BorshIoError",
];

type LiteSvmError = number | object;

function instructionErrorJson(err: unknown): unknown {
	if (typeof err === "number") return INSTRUCTION_ERRORS[err] ?? "GenericError";
	if (typeof err === "object" && err !== null) {
		if ("code" in err) return { Custom: Number(err.code) };
		if ("msg" in err) return { BorshIoError: String(err.msg) };
	}
	return "GenericError";
}

/** litesvm's error objects → the cluster's serde JSON. */
export function transactionErrorJson(err: LiteSvmError): TransactionErrorJson {
	if (typeof err === "number") return TRANSACTION_ERRORS[err] ?? "SanitizeFailure";
	const name = err.constructor.name;
	const fields = err as { index?: number; accountIndex?: number; err?: () => unknown };
	if (name === "TransactionErrorInstructionError" && typeof fields.err === "function") {
		return { InstructionError: [fields.index ?? 0, instructionErrorJson(fields.err())] };
	}
	if (name === "TransactionErrorDuplicateInstruction") {
		return { DuplicateInstruction: fields.index ?? 0 };
	}
	if (name === "TransactionErrorInsufficientFundsForRent") {
		return { InsufficientFundsForRent: { account_index: fields.accountIndex ?? 0 } };
	}
	if (name === "TransactionErrorProgramExecutionTemporarilyRestricted") {
		return { ProgramExecutionTemporarilyRestricted: { account_index: fields.accountIndex ?? 0 } };
	}
	return "SanitizeFailure";
}

const TRANSACTION_ERROR_TEXT: Record<string, string> = {
	AccountInUse: "Account in use",
	AccountLoadedTwice: "Account loaded twice",
	AccountNotFound: "Attempt to debit an account but found no record of a prior credit.",
	ProgramAccountNotFound: "Attempt to load a program that does not exist",
	InsufficientFundsForFee: "Insufficient funds for fee",
	InvalidAccountForFee: "This account may not be used to pay transaction fees",
	AlreadyProcessed: "This transaction has already been processed",
	BlockhashNotFound: "Blockhash not found",
	CallChainTooDeep: "Loader call chain is too deep",
	MissingSignatureForFee: "Transaction requires a fee but has no signature present",
	InvalidAccountIndex: "Transaction contains an invalid account reference",
	SignatureFailure: "Transaction did not pass signature verification",
	InvalidProgramForExecution: "This program may not be used for executing instructions",
	SanitizeFailure: "Transaction failed to sanitize accounts offsets correctly",
	AddressLookupTableNotFound: "Transaction loads an address table account that doesn't exist",
};

const INSTRUCTION_ERROR_TEXT: Record<string, string> = {
	GenericError: "generic instruction error",
	InvalidArgument: "invalid program argument",
	InvalidInstructionData: "invalid instruction data",
	InvalidAccountData: "invalid account data for instruction",
	AccountDataTooSmall: "account data too small for instruction",
	InsufficientFunds: "insufficient funds for instruction",
	IncorrectProgramId: "incorrect program id for instruction",
	MissingRequiredSignature: "missing required signature for instruction",
	AccountAlreadyInitialized: "instruction requires an uninitialized account",
	UninitializedAccount: "instruction requires an initialized account",
	NotEnoughAccountKeys: "insufficient account keys for instruction",
	IllegalOwner: "Provided owner is not allowed",
	ComputationalBudgetExceeded: "Computational budget exceeded",
	InvalidAccountOwner: "Invalid account owner",
	ArithmeticOverflow: "Program arithmetic overflowed",
};

function instructionErrorText(err: unknown): string {
	if (typeof err === "string") return INSTRUCTION_ERROR_TEXT[err] ?? err;
	if (typeof err === "object" && err !== null && "Custom" in err) {
		return `custom program error: 0x${Number(err.Custom).toString(16)}`;
	}
	return JSON.stringify(err);
}

/** The Display text validators put after "Transaction simulation failed: ". */
export function transactionErrorText(err: TransactionErrorJson): string {
	if (typeof err === "string") return TRANSACTION_ERROR_TEXT[err] ?? err;
	const instruction = err.InstructionError;
	if (Array.isArray(instruction)) {
		return `Error processing Instruction ${instruction[0]}: ${instructionErrorText(instruction[1])}`;
	}
	const rent = err.InsufficientFundsForRent as { account_index?: number } | undefined;
	if (rent) {
		return `Transaction results in an account (${rent.account_index}) with insufficient funds for rent`;
	}
	return JSON.stringify(err);
}

export function invalidParams(message: string, data?: unknown): JsonRpcError {
	return new JsonRpcError(RPC_INVALID_PARAMS, message, data);
}
