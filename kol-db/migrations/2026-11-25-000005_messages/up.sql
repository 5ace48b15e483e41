-- Messages inside a conversation (seed table `messages`).

CREATE TABLE messages (
    id              BIGSERIAL PRIMARY KEY,
    -- A conversation with messages cannot be deleted: history is never lost by a cascade.
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE RESTRICT,
    direction       TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT messages_direction_known CHECK (direction IN ('out', 'in')),
    -- Not empty or whitespace only, at most 10,000 characters (kol-core's MessageBody).
    CONSTRAINT messages_body_text CHECK (body ~ '[^[:space:]]' AND char_length(body) <= 10000)
);

CREATE INDEX messages_conversation_id_idx ON messages (conversation_id);

-- Inserting a message moves its conversation's last_message_at to the message's time (never
-- backwards: a message inserted late with an older time leaves the newer one in place).
CREATE FUNCTION messages_touch_conversation() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations
       SET last_message_at = GREATEST(last_message_at, NEW.created_at)
     WHERE id = NEW.conversation_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_touch_conversation
    AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_touch_conversation();
