{#- Every fault ticket with whether the same line had another fault restored in the 30 days
    before this one was reported (FT_REPEAT 重复障碍率):
        another ticket (any period, any product, other ticket_id) with the same non-NULL
        line_no_key and restore_time in [report_time - 30 x 24 h, report_time).
    Window-based, one sort, no self-join: per line, a timeline holds every restored fault at
    its restore_time and every reported fault at its report_time (a question). For a question
    at t, sum over the RANGE frame [t - 720 h, t] minus its peers at exactly t counts the
    restores in [t - 720 h, t); the ticket's own restore is taken off when it lies in its own
    window (only in malformed data: restore before report). -#}
{#- Incremental: a changed ticket (new, corrected or removed; a restore delivered days after
    the report) can change the flag of later tickets of its line, so a build recomputes every
    ticket of each line that has a changed ticket, old or new version: the window then sees
    the line's whole history and the flags equal a full build's. -#}
{{ incremental_config('BSS_FAULT', 'ticket_id') }}
{%- set loads = incremental_loads('BSS_FAULT') %}

with

staged as (
    select * from {{ ref('stg_bss__faults') }}
),
{%- if incremental_ready() %}

changed as (
    {{ changed_and_previous_versions('ticket_id', ['line_no_key'], loads) }}
),

faults as (
    select staged.*
    from staged
    where staged.line_no_key in (
            select changed.line_no_key from changed
            where changed.line_no_key is not null
        )
    union
    select staged.*
    from staged
    where staged.ticket_id in (select changed.ticket_id from changed)
),
{%- else %}

faults as (
    select * from staged
),
{%- endif %}

timeline as (
    -- earlier faults: every restored ticket, at its restore_time
    select
        line_no_key,
        restore_time as event_time,
        1 as is_restore,
        null::text as asking_ticket_id,
        null::timestamptz as own_restore_time
    from faults
    where
        line_no_key is not null
        and restore_time is not null
    union all
    -- questions: every reported ticket, at its report_time
    select
        line_no_key,
        report_time as event_time,
        0 as is_restore,
        ticket_id as asking_ticket_id,
        restore_time as own_restore_time
    from faults
    where
        line_no_key is not null
        and report_time is not null
),

counted as (
    select
        asking_ticket_id,
        event_time,
        own_restore_time,
        sum(is_restore)
            over (
                same_line range between interval '720 hours' preceding and current row
            )
        - sum(is_restore) over (same_line range between current row and current row)
            as restores_before_report
    from timeline
    window same_line as (partition by line_no_key order by event_time)
),

repeats as (
    select
        asking_ticket_id as ticket_id,
        restores_before_report
        - case
            when own_restore_time >= event_time - interval '720 hours'
                and own_restore_time < event_time then 1
            else 0
        end as other_restores_within_30d
    from counted
    where asking_ticket_id is not null
),

final as (
    select
        faults.ticket_id,
        faults.line_no_key,
        faults.product,
        faults.city_code,
        faults.county_code,
        faults.area_type,
        faults.report_time,
        faults.restore_time,
        faults.fault_class,
        faults.source,
        faults.load_id,
        coalesce(repeats.other_restores_within_30d, 0) > 0 as is_repeat_fault,
        now() as refreshed_at
    from faults
    left join repeats on faults.ticket_id = repeats.ticket_id
)

select * from final
