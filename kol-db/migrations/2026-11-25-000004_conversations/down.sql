DROP TABLE conversations;
DROP FUNCTION conversations_check_transition();
