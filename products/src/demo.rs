//! The demo catalogue: a few dozen realistic products across six
//! categories, for local runs (`products seed-demo`, or
//! `SEED_DEMO_CATALOGUE=true` on an empty database).

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryTrait,
};

use crate::catalogue::entity::{self, Column, Entity};
use crate::catalogue::product::now;
use crate::domain::{Price, Slug};

/// One demo product: title, category, brand, price, stock, description.
type DemoProduct = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    &'static str,
);

/// The demo catalogue. Slugs are derived from the titles.
pub const CATALOGUE: &[DemoProduct] = &[
    (
        "Aurora Wireless Headphones",
        "Electronics",
        "Sonique",
        "149.00",
        25,
        "Over-ear Bluetooth headphones with active noise cancelling and 30-hour battery life.",
    ),
    (
        "Pulse Fitness Tracker",
        "Electronics",
        "Vitalband",
        "59.99",
        40,
        "Water-resistant tracker with heart-rate monitoring, sleep tracking and a 7-day battery.",
    ),
    (
        "Nimbus 14 Laptop",
        "Electronics",
        "Cirrus",
        "1099.00",
        8,
        "14-inch ultralight laptop, 16 GB RAM, 512 GB SSD, all-day battery.",
    ),
    (
        "Beacon Smart Speaker",
        "Electronics",
        "Sonique",
        "89.50",
        0,
        "Compact speaker with room-filling sound and voice assistant support.",
    ),
    (
        "Orbit USB-C Charger 65W",
        "Electronics",
        "Voltix",
        "34.99",
        120,
        "Gallium-nitride wall charger that powers a laptop and a phone at once.",
    ),
    (
        "Lumen 4K Action Camera",
        "Electronics",
        "Cirrus",
        "229.00",
        12,
        "Waterproof to 10 m, image stabilisation, 4K at 60 frames per second.",
    ),
    (
        "Quill Mechanical Keyboard",
        "Electronics",
        "Keystone",
        "119.00",
        15,
        "Tenkeyless keyboard with hot-swappable switches and PBT keycaps.",
    ),
    (
        "The Silent Orchard",
        "Books",
        "Harbor Press",
        "18.99",
        30,
        "A family saga across three generations of apple growers.",
    ),
    (
        "Practical Rust Services",
        "Books",
        "Ferris Books",
        "42.00",
        18,
        "Building reliable web services in Rust, from the first handler to production.",
    ),
    (
        "Mountains of the Mind",
        "Books",
        "Harbor Press",
        "15.50",
        0,
        "Essays on why people climb, and what the high places do to us.",
    ),
    (
        "Cooking With Fire",
        "Books",
        "Ember House",
        "29.95",
        22,
        "Recipes and techniques for open-flame cooking, from grills to campfires.",
    ),
    (
        "Stars for Beginners",
        "Books",
        "Northlight",
        "12.99",
        45,
        "A friendly guide to the night sky, with seasonal star charts.",
    ),
    (
        "The Data Gardener",
        "Books",
        "Ferris Books",
        "36.00",
        9,
        "Growing and pruning databases that stay fast as they grow.",
    ),
    (
        "Cast Iron Skillet 28 cm",
        "Home & Kitchen",
        "Forgewell",
        "44.90",
        35,
        "Pre-seasoned cast iron skillet for stovetop, oven and campfire.",
    ),
    (
        "Pour-Over Coffee Set",
        "Home & Kitchen",
        "Brewline",
        "39.00",
        20,
        "Glass dripper, carafe and 100 filters for clean, bright coffee.",
    ),
    (
        "Linen Tea Towels (Set of 3)",
        "Home & Kitchen",
        "Loom & Co",
        "19.50",
        60,
        "Stonewashed linen towels that dry fast and soften with every wash.",
    ),
    (
        "Chef's Knife 20 cm",
        "Home & Kitchen",
        "Forgewell",
        "89.00",
        14,
        "Forged stainless steel blade with a full tang and balanced handle.",
    ),
    (
        "Bamboo Cutting Board",
        "Home & Kitchen",
        "Greengrain",
        "24.99",
        0,
        "Large end-grain board that is gentle on knife edges.",
    ),
    (
        "Ceramic Dinner Plates (Set of 4)",
        "Home & Kitchen",
        "Loom & Co",
        "54.00",
        16,
        "Hand-glazed stoneware plates, dishwasher and microwave safe.",
    ),
    (
        "Trailblazer 2-Person Tent",
        "Outdoors",
        "Summitcraft",
        "189.00",
        10,
        "Freestanding three-season tent, 2.1 kg, with two doors and vestibules.",
    ),
    (
        "Alpine Down Sleeping Bag",
        "Outdoors",
        "Summitcraft",
        "249.00",
        6,
        "Comfort rated to -5 °C, 700-fill responsibly sourced down.",
    ),
    (
        "Ridge 30 L Daypack",
        "Outdoors",
        "Wayfarer",
        "79.95",
        28,
        "Ventilated back panel, rain cover and hydration sleeve.",
    ),
    (
        "Titanium Camp Mug",
        "Outdoors",
        "Wayfarer",
        "27.00",
        50,
        "450 ml single-wall titanium mug with folding handles.",
    ),
    (
        "Headlamp 400 Lumen",
        "Outdoors",
        "Voltix",
        "32.50",
        0,
        "Rechargeable headlamp with red night mode and lock-out switch.",
    ),
    (
        "Trekking Poles (Pair)",
        "Outdoors",
        "Summitcraft",
        "64.00",
        19,
        "Collapsible aluminium poles with cork grips and flick locks.",
    ),
    (
        "Merino Crew Sweater",
        "Clothing",
        "Fjellwear",
        "98.00",
        24,
        "Fine merino wool sweater that regulates temperature and resists odour.",
    ),
    (
        "Waxed Canvas Jacket",
        "Clothing",
        "Fjellwear",
        "185.00",
        7,
        "Water-repellent waxed cotton jacket with a corduroy collar.",
    ),
    (
        "Organic Cotton T-Shirt",
        "Clothing",
        "Basics Lab",
        "22.00",
        80,
        "Heavyweight organic cotton tee with a relaxed fit.",
    ),
    (
        "Trail Running Shoes",
        "Clothing",
        "Stride",
        "129.95",
        13,
        "Grippy lugged outsole and a rock plate for technical trails.",
    ),
    (
        "Wool Hiking Socks (2 Pairs)",
        "Clothing",
        "Stride",
        "24.00",
        0,
        "Cushioned merino blend socks for long days on the trail.",
    ),
    (
        "Rain Shell Trousers",
        "Clothing",
        "Wayfarer",
        "110.00",
        11,
        "Waterproof breathable overtrousers with full-length side zips.",
    ),
    (
        "Wooden Marble Run",
        "Toys & Games",
        "Tinkerwood",
        "49.00",
        17,
        "Beech-wood marble run with 60 pieces for endless layouts.",
    ),
    (
        "Strategy Board Game: Harbours",
        "Toys & Games",
        "Meeple Works",
        "39.99",
        21,
        "Trade, build and expand your port city; 2-4 players, 60 minutes.",
    ),
    (
        "1000-Piece Puzzle: Night Market",
        "Toys & Games",
        "Meeple Works",
        "18.00",
        33,
        "A glowing street-market scene printed on thick recycled board.",
    ),
    (
        "Remote Control Rover",
        "Toys & Games",
        "Voltix",
        "74.50",
        9,
        "All-terrain rover with rechargeable battery and 50 m range.",
    ),
    (
        "Plush Red Panda",
        "Toys & Games",
        "Tinkerwood",
        "21.00",
        0,
        "Soft, cuddly and machine washable; suitable from birth.",
    ),
];

/// Load the demo catalogue, skipping products whose slug already exists;
/// returns how many were added. Safe to run again.
pub async fn seed(db: &DatabaseConnection) -> Result<u64, DbErr> {
    let mut added = 0;
    for (title, category, brand, price, stock, description) in CATALOGUE {
        let slug = Slug::derive(title);
        let Ok(price) = Price::parse(price) else {
            return Err(DbErr::Custom(format!("invalid demo product `{title}`")));
        };
        let now = now();
        let product = entity::ActiveModel {
            title: Set((*title).to_string()),
            slug: Set(slug.to_string()),
            description: Set((*description).to_string()),
            price_minor: Set(price.minor_units()),
            currency: Set("USD".to_string()),
            stock_qty: Set(*stock),
            category: Set((*category).to_string()),
            brand: Set(Some((*brand).to_string())),
            image_url: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        let insert = Entity::insert(product)
            .on_conflict(OnConflict::column(Column::Slug).do_nothing().to_owned())
            .into_query();
        added += db.execute(&insert).await?.rows_affected();
    }
    Ok(added)
}

/// Load the demo catalogue only when there are no products at all.
pub async fn seed_if_empty(db: &DatabaseConnection) -> Result<u64, DbErr> {
    if Entity::find().count(db).await? > 0 {
        return Ok(0);
    }
    seed(db).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_product_is_valid_and_unique() {
        let mut slugs: Vec<String> = CATALOGUE
            .iter()
            .map(|(title, _, _, price, _, _)| {
                assert!(Price::parse(price).is_ok(), "{title}");
                Slug::derive(title).to_string()
            })
            .collect();
        assert!(slugs.len() >= 30);
        slugs.sort();
        slugs.dedup();
        assert_eq!(slugs.len(), CATALOGUE.len());
    }
}
