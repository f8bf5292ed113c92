/**
 * Named counters of the cache proxy: every drop, refusal and oddity under a
 * stable snake_case name (STYLE.md §4), so nothing is silent. One
 * implementation for the whole project: the analyzers' counters.
 */
export { Counters as EventCounters } from '../../analyzers/counters.js';
