import { attributesSuite } from "../_attributes_suite.ts";

// The stored HTTP attributes against Azurite (flat Blob namespace).
await attributesSuite("flat");
