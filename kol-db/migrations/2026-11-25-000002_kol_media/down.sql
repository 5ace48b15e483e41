DROP TABLE kol_media;
