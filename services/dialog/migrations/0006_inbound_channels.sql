-- The channels a dialog's contact has written from: the ones a manager may
-- choose to answer through (the composer lists them).
alter table dialog add column inbound_channels text[] not null default '{}';
update dialog d set inbound_channels = coalesce(
    (select array_agg(distinct m.channel order by m.channel) from message m
     where m.account_id = d.account_id and m.dialog_id = d.id and m.author_kind = 'visitor'),
    '{}');
