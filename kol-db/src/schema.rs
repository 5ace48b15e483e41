// @generated automatically by Diesel CLI.

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

    rate_cards (id) {
        id -> Int8,
        kol_id -> Int8,
        item -> Text,
        price_integer -> Int4,
        est_reach -> Nullable<Int4>,
    }
}

diesel::joinable!(conversations -> kols (kol_id));
diesel::joinable!(kol_media -> kols (kol_id));
diesel::joinable!(messages -> conversations (conversation_id));
diesel::joinable!(rate_cards -> kols (kol_id));

diesel::allow_tables_to_appear_in_same_query!(conversations, kol_media, kols, messages, rate_cards,);
