import { describe, expect, it } from "vitest";
import { parseIpv4, parseIpv6 } from "../../src/domain/ip";
import { parseIp } from "../../src/domain/risk";

describe("IP address parsing", () => {
	it("reads dotted decimal and refuses anything else", () => {
		expect(parseIpv4("192.0.2.1")).toEqual([192, 0, 2, 1]);
		for (const bad of ["256.0.0.1", "1.2.3", "1.2.3.4.5", "0x7f.0.0.1", " 1.2.3.4", "1.2.3.-4"]) {
			expect(parseIpv4(bad)).toBeNull();
		}
	});

	it("reads IPv6 with compression and an IPv4 tail", () => {
		expect(parseIpv6("::1")).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
		expect(parseIpv6("2001:DB8::")).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]);
		expect(parseIpv6("::ffff:192.0.2.1")).toEqual([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201]);
		for (const bad of [
			"1::2::3",
			"12345::",
			"1:2:3:4:5:6:7:8:9",
			"1:2:3:4:5:6:7",
			"::g",
			"1.2.3.4",
		]) {
			expect(parseIpv6(bad)).toBeNull();
		}
	});

	it("gives the risk rules one number per address, an IPv4-mapped address as IPv4", () => {
		expect(parseIp("10.0.0.1")).toEqual({ version: 4, value: 0x0a000001n });
		expect(parseIp("::ffff:10.0.0.1")).toEqual({ version: 4, value: 0x0a000001n });
		expect(parseIp("2001:db8::1")).toEqual({ version: 6, value: (0x20010db8n << 96n) | 1n });
		expect(parseIp("nonsense")).toBeNull();
	});
});
