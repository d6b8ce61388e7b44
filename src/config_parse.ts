/**
 * Config from data (placeholder until the parser lands).
 *
 * @module
 */
