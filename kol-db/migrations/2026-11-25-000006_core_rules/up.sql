-- The rules of kol-core that the first migrations checked only loosely, now enforced by the
-- database itself, so that a second client (psql, another service) cannot store a row that
-- kol-core would refuse to read back. kol-db's tests check that these SQL rules and kol-core's
-- Rust rules agree, value by value.

-- Usernames per platform: the characters, the length limit and the reserved first path segments
-- of kol-core's `Platform` (`allows_username_char`, `max_username_len`, `reserved_paths`).
CREATE FUNCTION kol_username_valid(platform text, username text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN CASE platform
        WHEN 'tiktok' THEN username ~ '^[a-z0-9_.]{1,24}$'
            AND username <> ALL ('{discover,explore,foryou,following,live,tag,music}'::text[])
        WHEN 'instagram' THEN username ~ '^[a-z0-9_.]{1,30}$'
            AND username <> ALL ('{p,reel,reels,stories,explore,tv,accounts,direct,about,legal,developer}'::text[])
        WHEN 'youtube' THEN username ~ '^[a-z0-9_.-]{1,30}$'
            AND username <> ALL ('{watch,channel,c,user,shorts,results,feed,playlist}'::text[])
        WHEN 'facebook' THEN username ~ '^[a-z0-9.]{1,50}$'
            AND username <> ALL ('{profile.php,pages,groups,events,watch,marketplace,gaming,share,hashtag,photo,photo.php,login,settings,help,messages,notifications}'::text[])
        WHEN 'x' THEN username ~ '^[a-z0-9_]{1,15}$'
            AND username <> ALL ('{i,home,search,intent,hashtag,explore,settings,messages,notifications,share,login,logout,signup,tos,privacy}'::text[])
        WHEN 'threads' THEN username ~ '^[a-z0-9_.]{1,30}$'
            AND username <> ALL ('{p,reel,reels,stories,explore,tv,accounts,direct,about,legal,developer}'::text[])
        WHEN 'twitch' THEN username ~ '^[a-z0-9_]{1,25}$'
            AND username <> ALL ('{directory,settings,search,login,signup,downloads,p,jobs}'::text[])
        WHEN 'lemon8' THEN username ~ '^[a-z0-9_.]{1,30}$'
            AND username <> ALL ('{discover,explore}'::text[])
        ELSE false
    END;

-- The 249 officially assigned ISO 3166-1 alpha-2 codes of kol-core's `CountryCode`.
CREATE FUNCTION kol_country_valid(code text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN code = ANY ('{
    AD,AE,AF,AG,AI,AL,AM,AO,AQ,AR,AS,AT,AU,AW,AX,AZ,BA,BB,BD,BE,
    BF,BG,BH,BI,BJ,BL,BM,BN,BO,BQ,BR,BS,BT,BV,BW,BY,BZ,CA,CC,CD,
    CF,CG,CH,CI,CK,CL,CM,CN,CO,CR,CU,CV,CW,CX,CY,CZ,DE,DJ,DK,DM,
    DO,DZ,EC,EE,EG,EH,ER,ES,ET,FI,FJ,FK,FM,FO,FR,GA,GB,GD,GE,GF,
    GG,GH,GI,GL,GM,GN,GP,GQ,GR,GS,GT,GU,GW,GY,HK,HM,HN,HR,HT,HU,
    ID,IE,IL,IM,IN,IO,IQ,IR,IS,IT,JE,JM,JO,JP,KE,KG,KH,KI,KM,KN,
    KP,KR,KW,KY,KZ,LA,LB,LC,LI,LK,LR,LS,LT,LU,LV,LY,MA,MC,MD,ME,
    MF,MG,MH,MK,ML,MM,MN,MO,MP,MQ,MR,MS,MT,MU,MV,MW,MX,MY,MZ,NA,
    NC,NE,NF,NG,NI,NL,NO,NP,NR,NU,NZ,OM,PA,PE,PF,PG,PH,PK,PL,PM,
    PN,PR,PS,PT,PW,PY,QA,RE,RO,RS,RU,RW,SA,SB,SC,SD,SE,SG,SH,SI,
    SJ,SK,SL,SM,SN,SO,SR,SS,ST,SV,SX,SY,SZ,TC,TD,TF,TG,TH,TJ,TK,
    TL,TM,TN,TO,TR,TT,TV,TW,TZ,UA,UG,UM,US,UY,UZ,VA,VC,VE,VG,VI,
    VN,VU,WF,WS,YE,YT,ZA,ZM,ZW
    }'::text[]);

-- A category tag as kol-core's `Category` normalizes it: 1 to 64 characters, lower case, words
-- separated by single spaces (no other whitespace, none at either end), and none of the
-- characters that would need quoting in an array literal (`,` `{` `}` `"` `\`) or control
-- characters.
CREATE FUNCTION kol_category_valid(tag text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN char_length(tag) BETWEEN 1 AND 64
        AND tag = lower(tag)
        AND tag !~ '^ | $|  '
        AND translate(tag, ' ', '') !~ '[[:space:]]'
        AND tag !~ '[[:cntrl:],{}"\\]';

-- A set of tags: every tag valid, no NULL, no tag twice.
CREATE FUNCTION kol_categories_valid(tags text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN (SELECT coalesce(bool_and(t IS NOT NULL AND kol_category_valid(t)), true)
                   AND count(DISTINCT t) = count(*)
            FROM unnest(tags) AS t);

-- A link as kol-core's `Link` keeps it: `http://` or `https://` spelled out, a host, at most
-- 2,048 characters, no whitespace or control characters.
CREATE FUNCTION kol_link_valid(link text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN char_length(link) <= 2048
        AND link ~ '^https?://[^/?#[:space:][:cntrl:]]+([/?#][^[:space:][:cntrl:]]*)?$';

CREATE FUNCTION kol_links_valid(links text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN (SELECT coalesce(bool_and(l IS NOT NULL AND kol_link_valid(l)), true)
            FROM unnest(links) AS l);

-- `kols_country_assigned` replaces the shape-only `kols_country_iso`.
ALTER TABLE kols
    DROP CONSTRAINT kols_country_iso,
    ADD CONSTRAINT kols_username_platform_rules CHECK (kol_username_valid(platform, username)),
    ADD CONSTRAINT kols_country_assigned CHECK (kol_country_valid(country)),
    ADD CONSTRAINT kols_category_valid CHECK (kol_categories_valid(category)),
    ADD CONSTRAINT kols_sample_links_valid CHECK (kol_links_valid(sample_links));

ALTER TABLE kol_media
    ADD CONSTRAINT kol_media_url_valid CHECK (kol_link_valid(media_url)),
    -- kol-core's `Embedding`: the squared norm is a normal, finite f32 (pgvector accumulates it
    -- in f32; outside this range cosine distances lose all precision or overflow).
    ADD CONSTRAINT kol_media_emb_norm_range CHECK (
        vector_norm(emb) ^ 2 BETWEEN 1.1754943508222875e-38 AND 3.4028234663852886e38);

-- A conversation starts as kol-core's `Conversation::open` starts it: `contacted`, with no
-- terms yet. Later states are reached only through the transitions the update trigger checks.
CREATE FUNCTION conversations_check_start() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'contacted'
       OR num_nonnulls(NEW.proposed_deliverables, NEW.proposed_timeline,
                       NEW.proposed_price_integer, NEW.agreed_deliverables,
                       NEW.agreed_timeline, NEW.agreed_price_integer) > 0 THEN
        RAISE EXCEPTION 'a conversation starts as contacted, without terms (not %)', NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'conversations_start_contacted',
                  TABLE = 'conversations';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER conversations_check_start
    BEFORE INSERT ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversations_check_start();
