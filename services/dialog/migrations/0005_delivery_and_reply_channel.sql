-- The channel a dialog's contact last wrote from: where a manager's reply
-- goes unless the manager chooses another.
alter table dialog add column last_inbound_channel text not null default 'site';
-- Why a messenger did not take a message (its delivery state failed).
alter table message add column delivery_error text not null default '';
