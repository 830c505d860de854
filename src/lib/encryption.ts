/**
 * Envelope encryption for secrets at rest (webhook signing secrets, customer emails), with Web
 * Crypto only.
 *
 * Each value gets its own random AES-256-GCM data key; the data key is itself encrypted ("wrapped")
 * with a key-encryption key (KEK) from the Worker secret `ENCRYPTION_KEYS`. The envelope records
 * the KEK's id, so a KEK that is no longer current still decrypts what it wrapped, and rotating
 * the KEK only ever needs the small wrapped keys re-encrypted, never the data.
 *
 * Both layers authenticate `aad` (additional authenticated data, e.g. the row's id): a ciphertext
 * copied into another row fails to decrypt instead of quietly becoming that row's secret.
 */
import { fromBase64, toBase64Url } from "./crypto";

const VERSION = "ev1";
const LOOKUP_VERSION = "hk1";
const KID = /^[A-Za-z0-9_-]{1,32}$/;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `ENCRYPTION_KEYS` is missing or malformed. The message names the problem, never a key. */
export class EncryptionConfigError extends Error {
	constructor(message: string) {
		super(`ENCRYPTION_KEYS: ${message}`);
		this.name = "EncryptionConfigError";
	}
}

/** A ciphertext that cannot be opened: tampered, bound to other data, or under an unknown key. */
export class DecryptionError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "DecryptionError";
	}
}

export interface KeyEncryptionKey {
	kid: string;
	key: CryptoKey;
	/** HMAC-SHA-256 key derived from the KEK (HKDF), for lookup hashes of encrypted fields. */
	hashKey: CryptoKey;
}

export interface Keyring {
	/** Wraps every new data key: the first entry of `ENCRYPTION_KEYS`. */
	current: KeyEncryptionKey;
	byKid: ReadonlyMap<string, KeyEncryptionKey>;
}

/**
 * Parses `kid:base64(32 bytes)` entries, comma-separated, first = current. Base64 may be standard
 * or URL-safe, padded or not. Throws an EncryptionConfigError naming the bad entry by position.
 */
export function parseEncryptionKeys(
	value: string | undefined,
): { kid: string; bytes: Uint8Array }[] {
	if (value === undefined || value.trim() === "") throw new EncryptionConfigError("not set");
	const entries = value.split(",").map((entry) => entry.trim());
	const seen = new Set<string>();
	return entries.map((entry, i) => {
		const position = `entry ${i + 1}`;
		const colon = entry.indexOf(":");
		if (colon < 0) throw new EncryptionConfigError(`${position} must be kid:base64(32 bytes)`);
		const kid = entry.slice(0, colon);
		if (!KID.test(kid)) {
			throw new EncryptionConfigError(`${position}: the key id must be 1-32 of A-Z a-z 0-9 _ -`);
		}
		if (seen.has(kid)) throw new EncryptionConfigError(`key id '${kid}' appears twice`);
		seen.add(kid);
		let bytes: Uint8Array;
		try {
			bytes = fromBase64(entry.slice(colon + 1));
		} catch {
			throw new EncryptionConfigError(`key '${kid}' is not valid base64`);
		}
		if (bytes.byteLength !== KEY_BYTES) {
			throw new EncryptionConfigError(
				`key '${kid}' must be ${KEY_BYTES} bytes (it is ${bytes.byteLength})`,
			);
		}
		return { kid, bytes };
	});
}

let cached: { source: string; keyring: Promise<Keyring> } | undefined;

/** The keyring for `ENCRYPTION_KEYS`, imported once per isolate (and again if the value changes). */
export function loadKeyring(value: string | undefined): Promise<Keyring> {
	const source = value ?? "";
	if (cached?.source === source) return cached.keyring;
	const keyring = importKeyring(parseEncryptionKeys(value));
	cached = { source, keyring };
	// A failed import is not remembered: the next call tries again.
	keyring.catch(() => {
		if (cached?.keyring === keyring) cached = undefined;
	});
	return keyring;
}

async function importKeyring(entries: { kid: string; bytes: Uint8Array }[]): Promise<Keyring> {
	const keys = await Promise.all(
		entries.map(async ({ kid, bytes }) => ({
			kid,
			key: await crypto.subtle.importKey("raw", bytes, "AES-GCM", false, ["encrypt", "decrypt"]),
			hashKey: await crypto.subtle.deriveKey(
				{
					name: "HKDF",
					hash: "SHA-256",
					salt: new Uint8Array(0),
					info: encoder.encode(`${LOOKUP_VERSION}|lookup-hash`),
				},
				await crypto.subtle.importKey("raw", bytes, "HKDF", false, ["deriveKey"]),
				{ name: "HMAC", hash: "SHA-256", length: 256 },
				false,
				["sign"],
			),
		})),
	);
	return { current: keys[0] as KeyEncryptionKey, byKid: new Map(keys.map((k) => [k.kid, k])) };
}

/** Encrypts `plaintext` under a fresh data key, wrapped by the current KEK; bound to `aad`. */
export async function encrypt(keyring: Keyring, plaintext: string, aad: string): Promise<string> {
	const { kid, key: kek } = keyring.current;
	const dataKeyBytes = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
	const wrapIv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
	const wrapped = await crypto.subtle.encrypt(
		{ name: "AES-GCM", iv: wrapIv, additionalData: encoder.encode(label("key", kid, aad)) },
		kek,
		dataKeyBytes,
	);
	const dataKey = await crypto.subtle.importKey("raw", dataKeyBytes, "AES-GCM", false, ["encrypt"]);
	dataKeyBytes.fill(0);
	const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
	const ciphertext = await crypto.subtle.encrypt(
		{ name: "AES-GCM", iv, additionalData: encoder.encode(label("data", kid, aad)) },
		dataKey,
		encoder.encode(plaintext),
	);
	return [
		VERSION,
		kid,
		toBase64Url(wrapIv),
		toBase64Url(new Uint8Array(wrapped)),
		toBase64Url(iv),
		toBase64Url(new Uint8Array(ciphertext)),
	].join(".");
}

/** Opens an envelope made by `encrypt` with the same `aad`; throws DecryptionError otherwise. */
export async function decrypt(keyring: Keyring, envelope: string, aad: string): Promise<string> {
	const parts = envelope.split(".");
	if (parts.length !== 6 || parts[0] !== VERSION) {
		throw new DecryptionError("not an encrypted value of a known format");
	}
	const [, kid, wrapIvText, wrappedText, ivText, ciphertextText] = parts as [
		string,
		string,
		string,
		string,
		string,
		string,
	];
	const kek = keyring.byKid.get(kid);
	if (!kek) throw new DecryptionError(`encrypted under key '${kid}', which ENCRYPTION_KEYS lacks`);
	try {
		const dataKeyBytes = await crypto.subtle.decrypt(
			{
				name: "AES-GCM",
				iv: fromBase64(wrapIvText),
				additionalData: encoder.encode(label("key", kid, aad)),
			},
			kek.key,
			fromBase64(wrappedText),
		);
		const dataKey = await crypto.subtle.importKey("raw", dataKeyBytes, "AES-GCM", false, [
			"decrypt",
		]);
		new Uint8Array(dataKeyBytes).fill(0);
		const plaintext = await crypto.subtle.decrypt(
			{
				name: "AES-GCM",
				iv: fromBase64(ivText),
				additionalData: encoder.encode(label("data", kid, aad)),
			},
			dataKey,
			fromBase64(ciphertextText),
		);
		return decoder.decode(plaintext);
	} catch {
		// One message for every failure: which layer failed tells an attacker nothing useful.
		throw new DecryptionError("the value was altered or belongs to other data");
	}
}

/** The id of the KEK an envelope was wrapped with (the rotation job skips the current one). */
export function envelopeKid(envelope: string): string | null {
	const parts = envelope.split(".");
	return parts.length === 6 && parts[0] === VERSION ? (parts[1] as string) : null;
}

/**
 * A field that may predate encryption: an envelope is opened, anything else is a value written
 * before the field was encrypted and is returned as it is (until the rotation job seals it).
 */
export async function openField(keyring: Keyring, stored: string, aad: string): Promise<string> {
	return envelopeKid(stored) === null ? stored : decrypt(keyring, stored, aad);
}

/** Whether a stored field still needs the rotation job: plaintext, or wrapped by an older KEK. */
export function needsRotation(keyring: Keyring, stored: string | null): boolean {
	return stored !== null && envelopeKid(stored) !== keyring.current.kid;
}

/**
 * A keyed lookup hash (HMAC-SHA-256 under a key derived from the current KEK) for finding a row by
 * an encrypted field: `hk1.<kid>.<hex>`. Unlike a plain hash it cannot be reversed by hashing a
 * dictionary of likely values without the key.
 */
export async function lookupHash(keyring: Keyring, value: string): Promise<string> {
	return hashUnder(keyring.current, value);
}

/**
 * Every hash a stored row may carry for `value`: one per KEK in the keyring (rows not yet rotated)
 * and the legacy unkeyed SHA-256 (rows written before lookup hashes were keyed).
 */
export async function lookupHashes(keyring: Keyring, value: string): Promise<string[]> {
	const keyed = await Promise.all([...keyring.byKid.values()].map((k) => hashUnder(k, value)));
	const legacy = await crypto.subtle.digest("SHA-256", encoder.encode(value));
	return [...keyed, toHex(new Uint8Array(legacy))];
}

async function hashUnder(kek: KeyEncryptionKey, value: string): Promise<string> {
	const mac = await crypto.subtle.sign("HMAC", kek.hashKey, encoder.encode(value));
	return `${LOOKUP_VERSION}.${kek.kid}.${toHex(new Uint8Array(mac))}`;
}

function toHex(bytes: Uint8Array): string {
	return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Domain separation: the wrapped key and the data never share an AAD. */
function label(layer: "key" | "data", kid: string, aad: string): string {
	return `${VERSION}|${layer}|${kid}|${aad}`;
}
