{#- Customers of the CRM_CUSTOMER snapshot for the period, without personal data (no name,
    ID number or phone, not even pseudonyms): city, segment, value tier, join date.
    Incremental, but always one whole snapshot: when the table holds another snapshot or an
    older build of this one (a new or corrected delivery), the pre-hook empties it and the
    build writes the snapshot afresh; otherwise the build writes nothing, so a day without a
    new snapshot costs nothing. -#}
{{ config(
    materialized='incremental',
    unique_key='customer_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['customer_id'], 'unique': true}],
    pre_hook=["{{ empty_if_snapshot_changed(ref('stg_crm__customers')) }}"],
    post_hook=["{{ enforce_key('customer_id') }}"],
) }}

with

snapshot as (
    select * from {{ ref('stg_crm__customers') }}
    where {{ period_snapshot_filter(ref('stg_crm__customers')) }}
),

customers as (
    select * from snapshot
    {%- if is_incremental() %}
    -- the pre-hook left the table empty when the snapshot must be written
    where not exists (select 1 from {{ this }})
    {%- endif %}
),

final as (
    select
        customer_id,
        city_code,
        segment,
        value_tier,
        join_date,
        snapshot_date,
        load_id,
        now() as refreshed_at
    from customers
)

select * from final
