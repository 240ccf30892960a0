/**
 * The attribution window: a click counts for its impression when it happens within this long
 * after it (DESIGN.md, "The training set and the gate"). Analytics, the training set and
 * experiment results all use it, so a "click" means the same thing everywhere.
 */
export const DEFAULT_ATTRIBUTION_WINDOW_SECONDS = 3_600;
