/**
 * The sacreBLEU release whose algorithms and signatures this library reproduces; it is the `version:`
 * field of every BLEU and chrF signature, so scores are labelled with the implementation they match.
 */
export const SACREBLEU_VERSION = '2.4.2';
