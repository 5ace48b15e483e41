// @generated automatically by Diesel CLI.

diesel::table! {
    use diesel::sql_types::*;
    use pgvector::sql_types::*;

    campaign_kols (campaign_id, kol_id) {
        campaign_id -> Int8,
        kol_id -> Int8,
        status -> Text,
        agreed_price_integer -> Nullable<Int4>,
        over_budget_approved -> Bool,
        added_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use pgvector::sql_types::*;

    campaign_plan_items (campaign_id, kol_id) {
        campaign_id -> Int8,
        kol_id -> Int8,
        item -> Text,
        price_integer -> Int4,
        est_reach -> Int4,
        reach_estimated -> Bool,
        effective_reach -> Float8,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use pgvector::sql_types::*;

    campaign_plans (campaign_id) {
        campaign_id -> Int8,
        mode -> Text,
        budget_integer -> Int4,
        effective_reach -> Float8,
        upper_bound -> Float8,
        gap -> Float8,
        planned_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use pgvector::sql_types::*;

    campaigns (id) {
        id -> Int8,
        name -> Text,
        client -> Text,
        brief -> Nullable<Text>,
        brief_emb -> Nullable<Vector>,
        budget_integer -> Int4,
        starts_on -> Date,
        ends_on -> Date,
        status -> Text,
        exclusive -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use pgvector::sql_types::*;

    conversations (id) {
        id -> Int8,
        kol_id -> Int8,
        channel -> Text,
        status -> Text,
        created_at -> Timestamptz,
        last_message_at -> Nullable<Timestamptz>,
        proposed_deliverables -> Nullable<Text>,
        proposed_timeline -> Nullable<Text>,
        proposed_price_integer -> Nullable<Int4>,
        agreed_deliverables -> Nullable<Text>,
        agreed_timeline -> Nullable<Text>,
        agreed_price_integer -> Nullable<Int4>,
        campaign_id -> Int8,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use pgvector::sql_types::*;

    deliverables (id) {
        id -> Int8,
        campaign_id -> Int8,
        kol_id -> Int8,
        conversation_id -> Int8,
        item -> Text,
        due_on -> Date,
        status -> Text,
        post_url -> Nullable<Text>,
        posted_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use pgvector::sql_types::*;

    kol_media (id) {
        id -> Int8,
        kol_id -> Int8,
        kind -> Text,
        path -> Nullable<Text>,
        media_url -> Nullable<Text>,
        emb -> Nullable<Vector>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use pgvector::sql_types::*;

    kols (id) {
        id -> Int8,
        platform -> Text,
        username -> Text,
        display_name -> Nullable<Text>,
        category -> Array<Nullable<Text>>,
        followers -> Nullable<Int4>,
        country -> Nullable<Text>,
        contact -> Nullable<Text>,
        sample_links -> Array<Nullable<Text>>,
        extra -> Jsonb,
        audience_th_pct -> Nullable<Int4>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use pgvector::sql_types::*;

    messages (id) {
        id -> Int8,
        conversation_id -> Int8,
        direction -> Text,
        body -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use pgvector::sql_types::*;

    post_snapshots (id) {
        id -> Int8,
        deliverable_id -> Int8,
        captured_at -> Timestamptz,
        views -> Int8,
        likes -> Int8,
        comments -> Int8,
        shares -> Int8,
        saves -> Int8,
        reach -> Nullable<Int8>,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use pgvector::sql_types::*;

    rate_cards (id) {
        id -> Int8,
        kol_id -> Int8,
        item -> Text,
        price_integer -> Int4,
        est_reach -> Nullable<Int4>,
    }
}

diesel::joinable!(campaign_kols -> campaigns (campaign_id));
diesel::joinable!(campaign_kols -> kols (kol_id));
diesel::joinable!(campaign_plan_items -> campaign_plans (campaign_id));
diesel::joinable!(campaign_plan_items -> kols (kol_id));
diesel::joinable!(campaign_plans -> campaigns (campaign_id));
diesel::joinable!(conversations -> kols (kol_id));
diesel::joinable!(deliverables -> conversations (conversation_id));
diesel::joinable!(kol_media -> kols (kol_id));
diesel::joinable!(messages -> conversations (conversation_id));
diesel::joinable!(post_snapshots -> deliverables (deliverable_id));
diesel::joinable!(rate_cards -> kols (kol_id));

diesel::allow_tables_to_appear_in_same_query!(
    campaign_kols,
    campaign_plan_items,
    campaign_plans,
    campaigns,
    conversations,
    deliverables,
    kol_media,
    kols,
    messages,
    post_snapshots,
    rate_cards,
);
