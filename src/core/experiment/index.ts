/** Issue 5's pure half: subsets, evaluation, the run plan, results and the figure. */
export { knnAccuracy, type KnnInput, type KnnResult } from './knn.ts';
export { classTargets, hashSubset, membersByClass, randomSubset, type HashSubset, type HashSubsetInput } from './subsets.ts';
export { DEFAULT_EXPERIMENT, METHODS, experimentCells, validateExperiment, type Cell, type ExperimentSettings, type Method } from './plan.ts';
export { RESULTS_CSV_HEADER, resultsCsv, resultsJson, summarize, type CellResult, type SummaryPoint } from './results.ts';
export { escapeXml, figure2Svg, type Figure2Options } from './plot.ts';
export { estimateSeconds, type Estimate, type EstimateInput } from './estimate.ts';
export { datasetFingerprint } from './fingerprint.ts';
export { heldOutSplit, splitLayout, type SplitLayout, type SplitRole } from './eval-split.ts';
