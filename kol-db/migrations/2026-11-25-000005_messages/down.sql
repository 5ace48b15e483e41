DROP TABLE messages;
DROP FUNCTION messages_touch_conversation();
