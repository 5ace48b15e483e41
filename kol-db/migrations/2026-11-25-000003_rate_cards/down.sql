DROP TABLE rate_cards;
