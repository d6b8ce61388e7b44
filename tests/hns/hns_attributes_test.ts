import { attributesSuite } from "../_attributes_suite.ts";

// The stored HTTP attributes against the DFS emulator (ADLS Gen2).
await attributesSuite("hns");
