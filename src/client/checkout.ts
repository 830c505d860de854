// The checkout page's script.
export {};
