import { compilePattern, PatternError, type Re2Pattern } from "./engine.js";

/**
 * What a tenant's `dataSchema` may cost, decided before it is used. Validation visits each value of
 * `data` once per subschema that applies to it, so the work for one event is at most
 *
 *     once + each × (number of values in data)
 *
 * where `each` is the heaviest set of subschemas that can apply to a value that may occur more than
 * once (array items, additional or pattern properties, anything under a recursive `$ref`), and
 * `once` adds up the sets that apply to values occurring at most once (the root, named properties,
 * prefix items). Both are computed here, in units of about one keyword check, by walking the schema
 * the way validation walks data: from the root, one level of data at a time, each `$ref` followed.
 *
 * Refused: a `$ref` cycle that never descends into the data (it recurses forever), a schema whose
 * subschemas fan out on one value past MAX_WEIGHT (`anyOf` of `$ref`s of `anyOf`s doubling per level
 * — exponential work on a tiny value), `$id` below the root (its base URI would change how `$ref`s
 * resolve), and a `pattern` that is not RE2-compatible (engine.ts). Pattern matching
 * itself is charged at run time, where the string lengths are known.
 */

/** Heaviest set of subschemas that may apply to one value. */
export const MAX_WEIGHT = 16_384;
/** Heaviest set that may apply to each of many values (e.g. array items). */
export const MAX_WEIGHT_EACH = 4_096;
/** Distinct sets explored before the schema is called too intricate. */
export const MAX_STATES = 4_096;
/** What evaluating one subschema on one value costs, beyond its list-valued keywords. */
const NODE_UNITS = 8;

export class SchemaLimitError extends Error {
  /** RFC 6901 pointer into the schema at what is refused. */
  constructor(
    message: string,
    readonly pointer: string,
  ) {
    super(message);
  }
}

export interface SchemaCost {
  once: number;
  each: number;
}

const escapeToken = (t: string) => t.replaceAll("~", "~0").replaceAll("/", "~1");
const unescapeToken = (t: string) => t.replaceAll("~1", "/").replaceAll("~0", "~");
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const isSchema = (v: unknown): boolean => isObject(v) || typeof v === "boolean";

/** Subschemas applied to the same value. */
const IN_PLACE_ONE = ["not", "if", "then", "else"] as const;
const IN_PLACE_LIST = ["allOf", "anyOf", "oneOf"] as const;
const IN_PLACE_MAP = ["dependentSchemas", "dependencies"] as const;
/** Subschemas applied to values inside the value. */
const CHILD_ONE = ["items", "additionalItems", "contains", "additionalProperties", "propertyNames", "unevaluatedItems", "unevaluatedProperties"] as const;
const CHILD_MAP = ["properties", "patternProperties"] as const;
/** Subschemas applied only through `$ref`. */
const DEFINITIONS = ["$defs", "definitions"] as const;

/** Every subschema position of a schema object, as [pointer suffix, subschema]. */
function subschemas(node: Record<string, unknown>): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const k of [...IN_PLACE_ONE, ...CHILD_ONE]) if (isSchema(node[k])) out.push([`/${k}`, node[k]]);
  for (const k of [...IN_PLACE_LIST, "prefixItems"]) {
    const list = node[k];
    if (Array.isArray(list))
      list.forEach((s, i) => {
        if (isSchema(s)) out.push([`/${k}/${i}`, s]);
      });
  }
  for (const k of [...IN_PLACE_MAP, ...CHILD_MAP, ...DEFINITIONS]) {
    const map = node[k];
    if (isObject(map)) for (const [name, s] of Object.entries(map)) if (isSchema(s)) out.push([`/${k}/${escapeToken(name)}`, s]);
  }
  return out;
}

interface Node {
  weight: number;
  inPlace: string[];
  properties: Map<string, string>;
  patternProperties: [Re2Pattern, string][];
  additionalProperties?: string;
  unevaluatedProperties?: string;
  propertyNames?: string;
  prefixItems: string[];
  items?: string;
  contains?: string;
  unevaluatedItems?: string;
}

class Analysis {
  private readonly nodes = new Map<string, Node>();
  private readonly closures = new Map<string, Map<string, number>>();
  private readonly anchors = new Map<string, string>();
  private readonly dynamicAnchors = new Map<string, string>();
  private readonly rootId: string | undefined;

  constructor(private readonly root: unknown) {
    const id = isObject(root) && typeof root.$id === "string" ? root.$id : undefined;
    this.rootId = id?.replace(/#$/, "");
    scanDataSchema(root, (node, at) => {
      if (typeof node.$anchor === "string") this.anchors.set(node.$anchor, at);
      if (typeof node.$dynamicAnchor === "string") this.dynamicAnchors.set(node.$dynamicAnchor, at);
    });
  }

  private valueAt(pointer: string): unknown {
    let v: unknown = this.root;
    if (pointer === "") return v;
    for (const raw of pointer.slice(1).split("/")) {
      const token = unescapeToken(raw);
      if (Array.isArray(v) && /^(0|[1-9][0-9]*)$/.test(token)) v = v[Number(token)];
      else if (isObject(v) && Object.hasOwn(v, token)) v = v[token];
      else return undefined;
    }
    return v;
  }

  /** The pointer a `$ref` names, or a SchemaLimitError for forms this check does not follow. */
  private resolve(ref: string, at: string, dynamic: boolean): string {
    let r = ref;
    if (this.rootId !== undefined && r.startsWith(this.rootId)) r = r.slice(this.rootId.length);
    if (r === "" || r === "#") return "";
    if (r.startsWith("#/")) {
      let pointer: string;
      try {
        pointer = decodeURIComponent(r.slice(1));
      } catch {
        throw new SchemaLimitError(`cannot follow $ref ${JSON.stringify(ref)}`, at);
      }
      if (isSchema(this.valueAt(pointer))) return pointer;
    } else if (r.startsWith("#")) {
      const anchor = (dynamic ? this.dynamicAnchors.get(r.slice(1)) : undefined) ?? this.anchors.get(r.slice(1)) ?? this.dynamicAnchors.get(r.slice(1));
      if (anchor !== undefined) return anchor;
    }
    throw new SchemaLimitError(`cannot follow $ref ${JSON.stringify(ref)}: dataSchema may refer only within itself ("#", "#/json/pointer" or "#anchor")`, at);
  }

  node(pointer: string): Node {
    const cached = this.nodes.get(pointer);
    if (cached) return cached;
    const value = this.valueAt(pointer);
    const node: Node = { weight: NODE_UNITS, inPlace: [], properties: new Map(), patternProperties: [], prefixItems: [] };
    if (isObject(value)) {
      const v = value;
      const sub = (k: string) => (isSchema(v[k]) ? `${pointer}/${k}` : undefined);
      node.weight += Object.keys(v).length;
      for (const k of IN_PLACE_ONE) if (isSchema(v[k])) node.inPlace.push(`${pointer}/${k}`);
      for (const k of IN_PLACE_LIST)
        if (Array.isArray(v[k]))
          (v[k] as unknown[]).forEach((s, i) => {
            if (isSchema(s)) node.inPlace.push(`${pointer}/${k}/${i}`);
          });
      for (const k of IN_PLACE_MAP) {
        const map = v[k];
        if (!isObject(map)) continue;
        for (const [name, s] of Object.entries(map)) {
          node.weight += 1 + (Array.isArray(s) ? s.length : 0);
          if (isSchema(s)) node.inPlace.push(`${pointer}/${k}/${escapeToken(name)}`);
        }
      }
      if (typeof v.$ref === "string") node.inPlace.push(this.resolve(v.$ref, `${pointer}/$ref`, false));
      if (typeof v.$dynamicRef === "string") node.inPlace.push(this.resolve(v.$dynamicRef, `${pointer}/$dynamicRef`, true));
      if (typeof v.$recursiveRef === "string") node.inPlace.push(this.resolve(v.$recursiveRef, `${pointer}/$recursiveRef`, true));
      if (Array.isArray(v.required)) node.weight += v.required.length;
      if (isObject(v.dependentRequired)) for (const list of Object.values(v.dependentRequired)) node.weight += 1 + (Array.isArray(list) ? list.length : 0);
      if (isObject(v.properties)) {
        for (const [name, s] of Object.entries(v.properties)) if (isSchema(s)) node.properties.set(name, `${pointer}/properties/${escapeToken(name)}`);
        node.weight += node.properties.size;
      }
      if (isObject(v.patternProperties)) {
        for (const [source, s] of Object.entries(v.patternProperties)) {
          if (isSchema(s)) node.patternProperties.push([compilePattern(source), `${pointer}/patternProperties/${escapeToken(source)}`]);
        }
        node.weight += node.patternProperties.length;
      }
      if (Array.isArray(v.prefixItems)) {
        node.prefixItems = v.prefixItems.map((_, i) => `${pointer}/prefixItems/${i}`);
        node.weight += node.prefixItems.length;
      }
      node.additionalProperties = sub("additionalProperties");
      node.unevaluatedProperties = sub("unevaluatedProperties");
      node.propertyNames = sub("propertyNames");
      node.items = sub("items");
      node.contains = sub("contains");
      node.unevaluatedItems = sub("unevaluatedItems");
    }
    this.nodes.set(pointer, node);
    return node;
  }

  /** Every subschema applied to a value when `pointer` is, with how many times (saturating). */
  closure(pointer: string, path: string[] = []): Map<string, number> {
    const cached = this.closures.get(pointer);
    if (cached) return cached;
    if (path.includes(pointer)) {
      throw new SchemaLimitError(`$ref cycle ${[...path.slice(path.indexOf(pointer)), pointer].map((p) => p || "#").join(" → ")} never descends into the data`, pointer);
    }
    const out = new Map<string, number>([[pointer, 1]]);
    path.push(pointer);
    for (const child of this.node(pointer).inPlace) addAll(out, this.closure(child, path), 1);
    path.pop();
    this.closures.set(pointer, out);
    return out;
  }
}

/**
 * Checks, where each is written, every `pattern` and `patternProperties` key (RE2-compatible, not
 * too long) and that `$id` appears only at the root; calls `visit` with each schema object.
 * Positions are found by keyword, so a property named "pattern" is not mistaken for one.
 */
export function scanDataSchema(schema: unknown, visit: (node: Record<string, unknown>, pointer: string) => void = () => {}): void {
  const stack: [unknown, string][] = [[schema, ""]];
  while (stack.length > 0) {
    const [node, at] = stack.pop()!;
    if (!isObject(node)) continue;
    if (at !== "" && node.$id !== undefined) throw new SchemaLimitError("$id is accepted only at the root of dataSchema", `${at}/$id`);
    if (typeof node.pattern === "string") checkPattern(node.pattern, `${at}/pattern`);
    if (isObject(node.patternProperties)) for (const key of Object.keys(node.patternProperties)) checkPattern(key, `${at}/patternProperties/${escapeToken(key)}`);
    visit(node, at);
    for (const [suffix, child] of subschemas(node)) stack.push([child, at + suffix]);
  }
}

function checkPattern(source: string, pointer: string): void {
  try {
    compilePattern(source);
  } catch (err) {
    if (err instanceof PatternError) throw new SchemaLimitError(`${JSON.stringify(source.length > 80 ? `${source.slice(0, 80)}…` : source)} ${err.message}`, pointer);
    throw err;
  }
}

const SATURATED = MAX_WEIGHT + 1;

function addAll(into: Map<string, number>, from: Map<string, number>, times: number): void {
  for (const [p, n] of from) into.set(p, Math.min(SATURATED, (into.get(p) ?? 0) + n * times));
}

interface State {
  key: string;
  members: Map<string, number>;
  weight: number;
  /** [child state key, whether the edge may be taken by many values]. */
  edges: [string, boolean][];
}

/**
 * Computes what validation with `schema` may cost (see the top of this file), or throws
 * SchemaLimitError pointing at what to change. Assumes Ajv compiled the schema already.
 */
export function analyseDataSchema(schema: unknown): SchemaCost {
  const a = new Analysis(schema);
  const states = new Map<string, State>();
  const order: State[] = [];
  const stateOf = (members: Map<string, number>): string => {
    const key = [...members]
      .map(([p, n]) => `${n}*${p}`)
      .sort()
      .join("\u0000");
    if (states.has(key)) return key;
    if (states.size >= MAX_STATES) throw new SchemaLimitError(`dataSchema is too intricate to bound (more than ${MAX_STATES} distinct combinations of subschemas)`, "");
    let weight = 0;
    for (const [p, n] of members) weight += n * a.node(p).weight;
    if (weight > MAX_WEIGHT) {
      const heaviest = [...members].sort((x, y) => y[1] * a.node(y[0]).weight - x[1] * a.node(x[0]).weight)[0]![0];
      throw new SchemaLimitError(`subschemas applying to one value add up to ${weight} units (limit ${MAX_WEIGHT}): $ref/anyOf/allOf fan out too much`, heaviest);
    }
    const state: State = { key, members, weight, edges: [] };
    states.set(key, state);
    order.push(state);
    return key;
  };
  const closureOf = (targets: Map<string, number>): Map<string, number> => {
    const out = new Map<string, number>();
    for (const [p, n] of targets) addAll(out, a.closure(p), n);
    return out;
  };

  stateOf(a.closure(""));
  for (let i = 0; i < order.length; i++) {
    const state = order[i]!;
    const nodes = [...state.members].map(([p, n]) => [a.node(p), n] as const);
    const edge = (targets: Map<string, number>, many: boolean) => {
      if (targets.size > 0) state.edges.push([stateOf(closureOf(targets)), many]);
    };
    const add = (targets: Map<string, number>, p: string | undefined, n: number) => {
      if (p !== undefined) targets.set(p, Math.min(SATURATED, (targets.get(p) ?? 0) + n));
    };
    // Object members: each named property, then any other name, then the names themselves.
    const names = new Set(nodes.flatMap(([node]) => [...node.properties.keys()]));
    for (const name of names) {
      const targets = new Map<string, number>();
      for (const [node, n] of nodes) {
        add(targets, node.properties.get(name), n);
        let matched = false;
        for (const [re, p] of node.patternProperties) {
          if (re.test(name)) {
            add(targets, p, n);
            matched = true;
          }
        }
        if (!node.properties.has(name) && !matched) add(targets, node.additionalProperties, n);
        add(targets, node.unevaluatedProperties, n);
      }
      edge(targets, false);
    }
    const others = new Map<string, number>();
    const keys = new Map<string, number>();
    const rest = new Map<string, number>();
    for (const [node, n] of nodes) {
      for (const [, p] of node.patternProperties) add(others, p, n);
      add(others, node.additionalProperties, n);
      add(others, node.unevaluatedProperties, n);
      add(keys, node.propertyNames, n);
      add(rest, node.items, n);
      add(rest, node.contains, n);
      add(rest, node.unevaluatedItems, n);
    }
    edge(others, true);
    edge(keys, true);
    // Array items: each prefix position, then the rest.
    const prefix = Math.max(0, ...nodes.map(([node]) => node.prefixItems.length));
    for (let j = 0; j < prefix; j++) {
      const targets = new Map<string, number>();
      for (const [node, n] of nodes) {
        add(targets, j < node.prefixItems.length ? node.prefixItems[j] : node.items, n);
        add(targets, node.contains, n);
        add(targets, node.unevaluatedItems, n);
      }
      edge(targets, false);
    }
    edge(rest, true);
  }

  // A state is `once` if a single path of single-value edges leads to it from the root.
  const paths = new Map<string, number>([[order[0]!.key, 1]]);
  const work = [order[0]!];
  while (work.length > 0) {
    const state = work.pop()!;
    const here = paths.get(state.key)!;
    for (const [child, many] of state.edges) {
      const before = paths.get(child) ?? 0;
      const after = Math.min(2, before + (many ? 2 : here));
      if (after !== before) {
        paths.set(child, after);
        work.push(states.get(child)!);
      }
    }
  }
  let once = 0;
  let each = 0;
  for (const state of order) {
    if (paths.get(state.key) === 1) once += state.weight;
    else if (state.weight > each) each = state.weight;
  }
  if (each > MAX_WEIGHT_EACH) {
    const heavy = order.find((s) => paths.get(s.key) !== 1 && s.weight === each)!;
    const pointer = [...heavy.members.keys()][0] ?? "";
    throw new SchemaLimitError(`subschemas applying to each of many values (array items, additional properties) add up to ${each} units (limit ${MAX_WEIGHT_EACH})`, pointer);
  }
  return { once, each };
}
