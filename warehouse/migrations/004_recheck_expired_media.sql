-- 004_recheck_expired_media: attachments an older smsarchive marked expired are asked once more.
-- Before this version a media host's 404 or 410 marked an attachment expired for good, though
-- VoIP.ms says a file is gone with a 200 'Not found' page (API notes §4): a CDN answering 404
-- for a while lost every attachment it touched. The archive cannot tell those from real
-- expiries, so every expired one is pending again: the next media step stores it, or finds
-- it expired once more (one request each).

UPDATE media
SET
    state = 'pending',
    last_error = 'expiry_rechecked'
WHERE state = 'expired';
