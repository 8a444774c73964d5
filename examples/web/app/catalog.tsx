/** @jsxImportSource #jsx */
/**
 * The nested async part of the demo page: a catalog whose categories and
 * items are each "fetched" by their own async component, with delays chosen
 * so that they finish in a different order than they appear.
 *
 * @module
 */
import { sleep, type RequestClock } from './clock.ts';

interface ItemData {
  name: string;
  price: number;
  ms: number;
}
interface CategoryData {
  name: string;
  ms: number;
  items: ItemData[];
}

/** The catalog's data with each fetch's delay in ms. */
export const CATALOG: { ms: number; categories: CategoryData[] } = {
  ms: 60,
  categories: [
    {
      name: 'Yarns',
      ms: 220,
      items: [
        { name: 'Merino', price: 12, ms: 90 },
        { name: 'Alpaca', price: 18, ms: 30 },
      ],
    },
    {
      name: 'Looms',
      ms: 40,
      items: [
        { name: 'Rigid heddle', price: 140, ms: 160 },
        { name: 'Inkle', price: 65, ms: 20 },
        { name: 'Tapestry frame', price: 48, ms: 70 },
      ],
    },
    { name: 'Shuttles', ms: 120, items: [{ name: 'Boat shuttle', price: 22, ms: 10 }] },
  ],
};

/** The `data-node` names of the catalog in tree order, as the page must show them. */
export function catalogOrder(): string[] {
  return [
    'catalog',
    ...CATALOG.categories.flatMap((category) => [`category:${category.name}`, ...category.items.map((item) => `item:${item.name}`)]),
  ];
}

/** A footnote with when a component finished and its finish rank. */
function Finished({ clock }: { clock: RequestClock }) {
  const { rank, ms } = clock.finished();
  return (
    <small class="finished" data-rank={rank}>
      finished #{rank} at {ms} ms
    </small>
  );
}

async function Item({ item, clock }: { item: ItemData; clock: RequestClock }) {
  await sleep(item.ms);
  return (
    <li class="item" data-node={`item:${item.name}`}>
      {item.name} <span class="price">${item.price}</span> <Finished clock={clock} />
    </li>
  );
}

async function Category({ category, clock }: { category: CategoryData; clock: RequestClock }) {
  await sleep(category.ms);
  // Items are discovered only now: they start while other categories are still loading.
  return (
    <section class="category" data-node={`category:${category.name}`}>
      <h3>
        {category.name} <Finished clock={clock} />
      </h3>
      <ul>
        {category.items.map((item) => (
          <Item item={item} clock={clock} />
        ))}
      </ul>
    </section>
  );
}

/** The catalog: one async component per category and per item, rendered in parallel, shown in order. */
export async function Catalog({ clock }: { clock: RequestClock }) {
  await sleep(CATALOG.ms);
  return (
    <div class="catalog" data-node="catalog">
      {CATALOG.categories.map((category) => (
        <Category category={category} clock={clock} />
      ))}
    </div>
  );
}
