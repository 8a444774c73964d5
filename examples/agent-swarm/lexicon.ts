/**
 * The simulated model's vocabulary, as data: section facets, sentence
 * templates and the words that fill them. `{slot}` names refer to the lists
 * below; `{focus}` is the agent's topic and `{subject}` the root topic.
 *
 * @module
 */

/** Section topics the root hands out. */
export const TOP_FACETS = [
  'origins',
  'how it works',
  'the people involved',
  'common misconceptions',
  'costs and trade-offs',
  'everyday practice',
  'regional differences',
  'safety',
  'the numbers',
  'the future',
] as const;

/** Section topics deeper agents hand out. */
export const DEEP_FACETS = [
  'key terms',
  'a worked example',
  'early experiments',
  'open questions',
  'tools of the trade',
  'lessons learned',
  'a short timeline',
  'what can go wrong',
  'a closer look',
  'rules of thumb',
  'notable cases',
  'further reading',
] as const;

/** Prose sentences. */
export const SENTENCES = [
  'When it comes to {focus}, {subject} is {adverb} {adj}.',
  'Most accounts of {focus} begin with the {noun}, and for good reason.',
  'A {adj} {noun} can change how {subject} {verb} in practice.',
  '{Person} once argued that {focus} matters more than the {noun} itself.',
  'The numbers are telling: roughly {number} percent of the {noun} depends on {focus}.',
  'It is easy to overlook {focus}, yet it {verb} nearly every part of {subject}.',
  'In short, {focus} rewards patience and a {adj} eye.',
  'One {adj} example is the {noun}, which {verb} everything around it.',
  'Critics point out that the {noun} is {adverb} {adj}, especially at scale.',
  'Seen up close, {focus} looks less like a rule and more like a habit.',
  'Over the years, the {noun} became {adverb} {adj}.',
  'That is why people who study {subject} keep returning to {focus}.',
  'The {adj} part is not the {noun} but what surrounds it.',
  'Nobody planned it this way; the {noun} simply settled into place.',
  'Each {noun} tells a small part of the story of {focus}.',
  'A practical test is whether the {noun} still holds up on a {adj} day.',
  'The lesson of {focus} is {adverb} simple: start with the {noun}.',
  'Some of the best work on {focus} came from {person}.',
] as const;

/** The sentence that leads into a section. */
export const LEADS = [
  'The next section turns to {child}.',
  'That brings us to {child}.',
  'It helps to look at {child} on its own.',
  'Next comes {child}.',
] as const;

/** Words by slot. */
export const WORDS = {
  adj: ['careful', 'durable', 'surprising', 'quiet', 'practical', 'fragile', 'elegant', 'stubborn', 'modest', 'reliable', 'clever', 'patient'],
  noun: ['design', 'record', 'method', 'workshop', 'prototype', 'ledger', 'toolkit', 'schedule', 'measurement', 'tradition', 'standard', 'survey', 'archive'],
  verb: ['shapes', 'steadies', 'limits', 'explains', 'drives', 'anchors', 'complicates', 'reveals'],
  adverb: ['quietly', 'remarkably', 'often', 'surprisingly', 'usually', 'stubbornly', 'rarely'],
  person: ['an early surveyor', 'a retired engineer', 'one well-known historian', 'a local guild', 'a team of students', 'an anonymous reviewer'],
} as const;
