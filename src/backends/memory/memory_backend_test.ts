import { runConformanceSuite } from "../../../conformance.ts";
import { MemoryBackend } from "./memory_backend.ts";

runConformanceSuite("memory", { backend: new MemoryBackend() });
