/**
 * The currency cards issued in a country are usually billed in, for presenting a card payment in
 * the payer's currency. ISO 3166-1 alpha-2 (as Cloudflare's `request.cf.country`) to the
 * lowercase ISO 4217 code used on the wire. The main card markets only: a country not listed
 * simply gets no presentment. Euro area as of 2026 (Bulgaria adopted the euro on 2026-01-01).
 */
const EURO_AREA = [
	"AD", // Andorra (uses the euro by agreement)
	"AT",
	"BE",
	"BG",
	"CY",
	"DE",
	"EE",
	"ES",
	"FI",
	"FR",
	"GR",
	"HR",
	"IE",
	"IT",
	"LT",
	"LU",
	"LV",
	"MC",
	"ME",
	"MT",
	"NL",
	"PT",
	"SI",
	"SK",
	"SM",
	"VA",
	"XK",
] as const;

export const COUNTRY_CURRENCIES: Readonly<Record<string, string>> = Object.freeze({
	...Object.fromEntries(EURO_AREA.map((c) => [c, "eur"])),
	// Americas
	US: "usd",
	PR: "usd",
	EC: "usd",
	SV: "usd",
	PA: "usd",
	CA: "cad",
	MX: "mxn",
	BR: "brl",
	AR: "ars",
	CL: "clp",
	CO: "cop",
	PE: "pen",
	UY: "uyu",
	// Europe outside the euro
	GB: "gbp",
	CH: "chf",
	LI: "chf",
	NO: "nok",
	SE: "sek",
	DK: "dkk",
	IS: "isk",
	PL: "pln",
	CZ: "czk",
	HU: "huf",
	RO: "ron",
	RS: "rsd",
	TR: "try",
	UA: "uah",
	// Middle East and Africa
	IL: "ils",
	AE: "aed",
	SA: "sar",
	QA: "qar",
	KW: "kwd",
	BH: "bhd",
	OM: "omr",
	JO: "jod",
	EG: "egp",
	MA: "mad",
	NG: "ngn",
	KE: "kes",
	GH: "ghs",
	ZA: "zar",
	// Asia and Oceania
	IN: "inr",
	PK: "pkr",
	BD: "bdt",
	LK: "lkr",
	CN: "cny",
	HK: "hkd",
	MO: "mop",
	TW: "twd",
	JP: "jpy",
	KR: "krw",
	SG: "sgd",
	MY: "myr",
	TH: "thb",
	ID: "idr",
	PH: "php",
	VN: "vnd",
	AU: "aud",
	NZ: "nzd",
});

/** The payer's currency for a country code ("DE" → "eur"), or null when not listed. */
export function currencyForCountry(country: string | null | undefined): string | null {
	if (!country) return null;
	const code = country.toUpperCase();
	return Object.hasOwn(COUNTRY_CURRENCIES, code) ? (COUNTRY_CURRENCIES[code] ?? null) : null;
}
